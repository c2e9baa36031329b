"""Writes on API tokens: issue, revoke, and note a use. Every write takes `actor=`."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from api.tokens.models import ApiToken
from api.tokens.scopes import ALL_SCOPES, scopes_for_role
from gates.engine import Role, role_in
from tenants.changelog import change_log_actor
from tenants.errors import ApplicationError
from tenants.models import ClientCompany, User

TOKEN_PREFIX = "vst_"
MAX_LIFETIME_DAYS = 3650
# A token's `last_used_at` is written at most this often, not on every request.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def token_hash(secret: str) -> str:
    """The stored form of a token. A plain SHA-256 is enough: the secret is 256 random bits, not a
    password a person chose, so there is nothing to guess from a leaked hash."""
    return hashlib.sha256(secret.encode()).hexdigest()


def token_create(
    *,
    company: ClientCompany,
    user: User,
    name: str,
    scopes: Iterable[str],
    expires_in_days: int | None,
    actor: User,
    within: frozenset[str] | None = None,
) -> tuple[ApiToken, str]:
    """Issue a token for `user` in `company` and return it with its secret (shown once, never stored).

    The scopes must be ones the person's role allows, and, when a token issues a token, ones that
    token holds (`within`), so no token can mint a stronger one.
    """
    name = (name or "").strip()
    if not name:
        raise ApplicationError(_("give the token a name"), field="name")
    if len(name) > 100:
        raise ApplicationError(_("the name is longer than 100 characters"), field="name")
    scopes = sorted(set(scopes))
    if not scopes:
        raise ApplicationError(_("choose at least one scope"), field="scopes")
    unknown = [scope for scope in scopes if scope not in ALL_SCOPES]
    if unknown:
        raise ApplicationError(_("unknown scope: %(scopes)s") % {"scopes": ", ".join(unknown)}, field="scopes")
    role = role_in(user=user, company=company)
    if role not in Role.CLIENT:
        raise ApplicationError(_("only a client user of this company can hold a token here"), field="user")
    allowed = scopes_for_role(role) if within is None else scopes_for_role(role) & within
    refused = [scope for scope in scopes if scope not in allowed]
    if refused:
        raise ApplicationError(
            _("not a scope you may grant: %(scopes)s") % {"scopes": ", ".join(refused)}, field="scopes"
        )
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_LIFETIME_DAYS:
        raise ApplicationError(
            _("a token lives from 1 to %(days)s days") % {"days": MAX_LIFETIME_DAYS}, field="expires_in_days"
        )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = timezone.now() + dt.timedelta(days=expires_in_days) if expires_in_days else None
    with transaction.atomic(), change_log_actor(actor):
        token = ApiToken(
            company=company,
            user=user,
            name=name,
            scopes=scopes,
            token_hash=token_hash(secret),
            prefix=secret[:12],
            expires_at=expires_at,
        )
        token.full_clean()
        token.save()
    return token, secret


def token_revoke(*, token: ApiToken, actor: User) -> ApiToken:
    """Revoke a token; the next request that carries it is refused. Revoking twice changes nothing."""
    if token.revoked_at is not None:
        return token
    with transaction.atomic(), change_log_actor(actor):
        token.revoked_at = timezone.now()
        token.revoked_by = actor
        token.save(update_fields=["revoked_at", "revoked_by"])
    return token


def token_authenticate(*, secret: str, company: ClientCompany) -> tuple[ApiToken, str] | None:
    """The live token with this secret for this company and its person's role there, or None
    (unknown, another company's, revoked, expired, or its person no longer a client user here: all
    answered alike)."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    token = ApiToken.objects.select_related("user").filter(token_hash=token_hash(secret)).first()
    if token is None or token.company_id != company.pk or not token.is_live:
        return None
    role = role_in(user=token.user, company=company)
    if role not in Role.CLIENT:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        # One UPDATE outside the change log: a use is not a change of the token.
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token, role
