"""Reads of API tokens."""

from __future__ import annotations

from django.db.models import QuerySet

from api.tokens.models import ApiToken
from gates.engine import Role, role_in
from tenants.models import ClientCompany, User


def token_list(*, company: ClientCompany, viewer: User) -> QuerySet[ApiToken]:
    """The tokens of this company that `viewer` may see and revoke: a client admin sees everyone's
    (to revoke a leaked one), a member only their own, anyone else none."""
    role = role_in(user=viewer, company=company)
    tokens = ApiToken.objects.filter(company=company).select_related("user")
    if role == Role.CLIENT_ADMIN:
        return tokens
    if role == Role.CLIENT_MEMBER:
        return tokens.filter(user=viewer)
    return tokens.none()
