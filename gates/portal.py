"""Gate 1 for portal pages. The middleware already refuses anyone who is not a client user of the
host's company; these decorators say which of the company's client users a page is for."""

from __future__ import annotations

from functools import wraps

from django.http import Http404

from gates.engine import Role, role_for_request


def client_page(view):
    """A page for every client user of this company (admins and members)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if role_for_request(request, request.tenant) not in Role.CLIENT:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped


def client_admin_page(view):
    """A page for the company's client admins only; to a member it does not exist."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if role_for_request(request, request.tenant) != Role.CLIENT_ADMIN:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped


def is_client_admin(request) -> bool:
    return role_for_request(request, request.tenant) == Role.CLIENT_ADMIN
