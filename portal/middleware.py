"""Sign-in hardening on a client company's host.

- A session belongs to the host it was signed in on: the schema is stored in it at sign-in, and a
  session presented on another company's host (a copied cookie) is logged out there.
- A person who must give a one-time code has signed in with a password only until they give it:
  every page sends them to the code (or to set up a device), and the API refuses them.
"""

from __future__ import annotations

import logging

from django.contrib.auth import logout
from django.http import HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.http import urlencode
from django_tenants.utils import get_public_schema_name

from portal.selectors import second_factor_needed

logger = logging.getLogger(__name__)

SESSION_SCHEMA_KEY = "portal_schema"
# Reachable before the second factor: sign-in and sign-out, the code itself, password reset, the
# language switch and static files.
BEFORE_SECOND_FACTOR = ("/accounts/", "/i18n/", "/static/")


def session_bind(sender, request, user, **kwargs):
    """`user_logged_in` receiver: bind the new session to the schema of the host it was made on."""
    company = getattr(request, "tenant", None)
    if company is not None and hasattr(request, "session"):
        request.session[SESSION_SCHEMA_KEY] = company.schema_name


class TenantSessionMiddleware:
    """Before gate 1: a signed-in session that was not made on this company's host is logged out.

    On a client company's host the session must name this company's schema; a session made
    elsewhere (another company, the provider's host) or by no sign-in at all names another or none.
    On the provider's host a session bound to a client company is refused the same way."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        company = getattr(request, "tenant", None)
        if company is not None and request.user.is_authenticated:
            bound = request.session.get(SESSION_SCHEMA_KEY)
            here = company.schema_name
            on_public = here == get_public_schema_name()
            if bound != here and not (on_public and bound is None):
                logger.warning("session of user %s bound to %r refused on %r", request.user.pk, bound, here)
                logout(request)
        return self.get_response(request)


class SecondFactorMiddleware:
    """After gate 1 (so only the company's own client users get here): someone who must give a
    one-time code and has not is sent to give it, or to set up a device; the API answers 403."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        company = getattr(request, "tenant", None)
        user = request.user
        if (
            company is None
            or not getattr(company, "is_client", False)
            or not user.is_authenticated
            or user.is_verified()
            or request.path.startswith(BEFORE_SECOND_FACTOR)
            or not second_factor_needed(user=user, company=company)
        ):
            return self.get_response(request)
        if request.path.startswith("/api/"):
            return JsonResponse(
                {
                    "detail": "A one-time code is required: finish signing in on the portal.",
                    "code": "second_factor_required",
                },
                status=403,
            )
        target = reverse("second-factor")
        return HttpResponseRedirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
