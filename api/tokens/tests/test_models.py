"""An API token's state: revoked wins over expired, and a token is live only while neither; its
name shows its prefix, never its secret or hash."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from api.tokens.models import ApiToken

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen_now(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)


@pytest.mark.parametrize(
    ("expires_at", "revoked_at", "state", "live"),
    [
        (None, None, "active", True),
        (NOW + dt.timedelta(seconds=1), None, "active", True),
        (NOW, None, "expired", False),  # the instant it expires it is no longer live
        (NOW - dt.timedelta(days=1), None, "expired", False),
        (None, NOW - dt.timedelta(days=1), "revoked", False),
        (NOW - dt.timedelta(days=1), NOW - dt.timedelta(days=2), "revoked", False),
        (NOW + dt.timedelta(days=30), NOW, "revoked", False),
    ],
)
def test_the_state_and_liveness(expires_at, revoked_at, state, live):
    token = ApiToken(name="ci", prefix="vst_abcd", token_hash="f" * 64, expires_at=expires_at, revoked_at=revoked_at)
    assert (token.state, token.is_live) == (state, live)


def test_the_name_shows_the_prefix_and_not_the_hash():
    token = ApiToken(name="deploy bot", prefix="vst_abcd", token_hash="e3b0c442" * 8)
    assert str(token) == "API token vst_abcd… (deploy bot)"
    assert "e3b0c442" not in str(token)
