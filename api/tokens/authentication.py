"""`Authorization: Bearer <token>` for the REST API of a client company's host.

A token is accepted only on its own company's host and only while its person is still a client
user there; anything else is one and the same 401, so a refusal tells nothing about what exists.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from api.tokens.services import token_authenticate
from gates.engine import role_memo_set


class BearerTokenAuthentication(BaseAuthentication):
    keyword = b"bearer"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise AuthenticationFailed(_("The Authorization header must be 'Bearer <token>'."))
        company = getattr(request, "tenant", None)
        try:
            secret = parts[1].decode("ascii")
        except UnicodeDecodeError:
            secret = ""
        found = token_authenticate(secret=secret, company=company) if company is not None else None
        if found is None:
            raise AuthenticationFailed(_("Invalid, expired or revoked token."))
        token, role = found
        # The request now acts as the token's person: gate 1's memo must answer for them, not for
        # whoever else a session cookie on the same request named.
        role_memo_set(request, company, role)
        return token.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = BearerTokenAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        scheme = build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Bearer")
        scheme["description"] = "A personal API token from the portal's API tokens page (`vst_…`)."
        return scheme
