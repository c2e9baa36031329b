"""API scopes: `<resource>:read` for safe methods, `<resource>:write` for the rest; a client admin
may hold every scope, a client member every scope but the admins' resources, anyone else none."""

from __future__ import annotations

import pytest

from api.tokens.scopes import (
    ADMIN_ONLY_RESOURCES,
    ALL_SCOPES,
    RESOURCE_LABELS,
    RESOURCES,
    scope_required,
    scopes_for_role,
)
from gates.engine import Role


def test_every_resource_has_a_read_and_a_write_scope_and_a_label():
    assert len(ALL_SCOPES) == 2 * len(RESOURCES)
    assert {"lines:read", "lines:write", "tokens:read", "tokens:write"} <= set(ALL_SCOPES)
    assert set(RESOURCE_LABELS) == set(RESOURCES)
    assert set(RESOURCES) >= ADMIN_ONLY_RESOURCES


def test_a_client_admin_may_hold_every_scope():
    assert scopes_for_role(Role.CLIENT_ADMIN) == frozenset(ALL_SCOPES)


def test_a_client_member_may_hold_every_scope_but_the_admins_resources():
    member = scopes_for_role(Role.CLIENT_MEMBER)
    assert {"messages:read", "messages:write", "tokens:write", "analytics:read"} <= member
    for resource in ("access_log", "data_requests", "team", "webhooks"):
        assert f"{resource}:read" not in member
        assert f"{resource}:write" not in member
    assert member == frozenset(ALL_SCOPES) - {f"{r}:{a}" for r in ADMIN_ONLY_RESOURCES for a in ("read", "write")}


@pytest.mark.parametrize("role", [Role.AGENT, Role.SUPERVISOR, Role.DPO, Role.PROVIDER_ADMIN, Role.NONE, ""])
def test_provider_staff_and_strangers_may_hold_no_scope(role):
    assert scopes_for_role(role) == frozenset()


@pytest.mark.parametrize(
    ("method", "scope"),
    [
        ("GET", "calls:read"),
        ("head", "calls:read"),
        ("OPTIONS", "calls:read"),
        ("POST", "calls:write"),
        ("PUT", "calls:write"),
        ("patch", "calls:write"),
        ("DELETE", "calls:write"),
    ],
)
def test_a_safe_method_needs_the_read_scope_and_any_other_the_write_scope(method, scope):
    assert scope_required(resource="calls", method=method) == scope
