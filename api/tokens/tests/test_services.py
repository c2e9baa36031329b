"""Issuing, revoking and using API tokens: only the hash is stored; a token is issued only within
its person's role (and within the issuing token's own scopes); a use is noted at most once a
minute; and every refusal to authenticate is the same None."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.utils import timezone

from api.tokens.models import ApiToken
from api.tokens.services import (
    LAST_USED_RESOLUTION,
    MAX_LIFETIME_DAYS,
    TOKEN_PREFIX,
    token_authenticate,
    token_create,
    token_revoke,
)
from tenants.errors import ApplicationError

pytestmark = pytest.mark.django_db


def _create(user, company, **overrides):
    arguments = {"name": "ci", "scopes": ["lines:read"], "expires_in_days": 30, "actor": user, **overrides}
    return token_create(company=company, user=user, **arguments)


def test_a_token_is_stored_as_its_hash_with_a_recognisable_prefix(acme, acme_admin):
    token, secret = _create(acme_admin, acme, name="  deploy  ", scopes=["lines:read", "lines:read", "calls:read"])
    assert secret.startswith(TOKEN_PREFIX)
    assert len(secret) > 40
    token.refresh_from_db()
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(ApiToken.objects.filter(pk=token.pk).values().get())
    assert (token.name, token.prefix, token.scopes) == ("deploy", secret[:12], ["calls:read", "lines:read"])
    assert dt.timedelta(days=29, hours=23) < token.expires_at - timezone.now() <= dt.timedelta(days=30)
    assert _create(acme_admin, acme, expires_in_days=None)[0].expires_at is None


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": "   "}, "name", "give the token a name"),
        ({"name": "x" * 101}, "name", "longer than 100 characters"),
        ({"scopes": []}, "scopes", "choose at least one scope"),
        ({"scopes": ["lines:read", "everything:write"]}, "scopes", "unknown scope: everything:write"),
        ({"scopes": ["team:read"]}, "scopes", "not a scope you may grant: team:read"),  # a member's role
        ({"expires_in_days": 0}, "expires_in_days", f"from 1 to {MAX_LIFETIME_DAYS} days"),
        ({"expires_in_days": MAX_LIFETIME_DAYS + 1}, "expires_in_days", f"from 1 to {MAX_LIFETIME_DAYS} days"),
    ],
)
def test_a_bad_token_is_refused_naming_the_field(acme, acme_member, overrides, field, message):
    with pytest.raises(ApplicationError) as refused:
        _create(acme_member, acme, **overrides)
    assert refused.value.field == field
    assert message in refused.value.message
    assert not ApiToken.objects.filter(user=acme_member).exists()


def test_no_token_for_someone_who_is_not_a_client_user_here(acme, globex_admin, agent1):
    for person in (globex_admin, agent1):
        with pytest.raises(ApplicationError, match="only a client user of this company"):
            _create(person, acme)


def test_a_token_issues_only_tokens_within_its_own_scopes(acme, acme_admin):
    _create(acme_admin, acme, scopes=["lines:read"], within=frozenset({"lines:read", "tokens:write"}))
    with pytest.raises(ApplicationError, match="not a scope you may grant: lines:write"):
        _create(acme_admin, acme, scopes=["lines:read", "lines:write"], within=frozenset({"lines:read"}))


def test_revoking_twice_keeps_the_first_revocation(acme, acme_admin, globex_admin):
    token, _secret = _create(acme_admin, acme)
    first = token_revoke(token=token, actor=acme_admin).revoked_at
    assert token_revoke(token=token, actor=globex_admin).revoked_at == first
    token.refresh_from_db()
    assert (token.revoked_at, token.revoked_by) == (first, acme_admin)


def test_authenticating_gives_the_token_and_its_persons_role_and_notes_the_use_once_a_minute(acme, acme_admin):
    token, secret = _create(acme_admin, acme)
    found, role = token_authenticate(secret=secret, company=acme)
    assert (found.pk, role) == (token.pk, "client_admin")
    first_use = ApiToken.objects.get(pk=token.pk).last_used_at
    assert first_use is not None
    token_authenticate(secret=secret, company=acme)
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first_use  # within the minute: no write
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first_use - LAST_USED_RESOLUTION * 2)
    token_authenticate(secret=secret, company=acme)
    assert ApiToken.objects.get(pk=token.pk).last_used_at > first_use - LAST_USED_RESOLUTION


def test_every_refusal_to_authenticate_is_the_same_none(acme, globex, acme_admin):
    token, secret = _create(acme_admin, acme)
    assert token_authenticate(secret=secret, company=globex) is None
    assert token_authenticate(secret=secret[len(TOKEN_PREFIX) :], company=acme) is None  # no prefix
    assert token_authenticate(secret=secret + "x" * 100, company=acme) is None  # too long to look up
    assert token_authenticate(secret=TOKEN_PREFIX + "unknown", company=acme) is None
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert token_authenticate(secret=secret, company=acme) is None
