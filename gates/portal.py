"""Gate 1 for portal pages. The middleware already refuses anyone who is not a client user of the
host's company; these decorators say which of the company's client users a page is for."""

from __future__ import annotations

from functools import wraps

from django.http import Http404

from gates.context import person_context
from gates.engine import Role, policy_for_request, role_for_request


def _in_person_context(request, view, *args, **kwargs):
    """Run a portal view in its person's gate context, its template rendered inside it too."""
    company = request.tenant
    policy = policy_for_request(request, company)
    with person_context(user=request.user, company=company, policy=policy, channel="portal", path=request.path):
        response = view(request, *args, **kwargs)
        if hasattr(response, "render") and not response.is_rendered:
            response.render()  # a lazy template would otherwise read after the context ends
    return response


def client_page(view):
    """A page for every client user of this company (admins and members)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if role_for_request(request, request.tenant) not in Role.CLIENT:
            raise Http404
        return _in_person_context(request, view, *args, **kwargs)

    return wrapped


def client_admin_page(view):
    """A page for the company's client admins only; to a member it does not exist."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if role_for_request(request, request.tenant) != Role.CLIENT_ADMIN:
            raise Http404
        return _in_person_context(request, view, *args, **kwargs)

    return wrapped


def is_client_admin(request) -> bool:
    return role_for_request(request, request.tenant) == Role.CLIENT_ADMIN
