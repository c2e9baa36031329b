"""The change log's actor around a service: it nests, and gives the surrounding context back."""

from __future__ import annotations

import pytest
from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.db import connection

from tenants.changelog import change_log_actor
from tenants.models import Membership, User

pytestmark = pytest.mark.django_db


def _member(company, username: str) -> Membership:
    user = User.objects.create(username=username)
    return Membership.objects.create(user=user, company=company, role=Membership.Role.CLIENT_MEMBER)


def _actor_of(membership: Membership) -> User | None:
    return LogEntry.objects.get_for_object(membership).get(action=LogEntry.Action.CREATE).actor


def test_an_inner_service_gives_the_outer_actor_back(initech, acme_admin, agent1):
    connection.set_schema_to_public()
    with set_actor(acme_admin):  # what AuditlogMiddleware or an outer service set
        before = _member(initech, "log-before")
        with change_log_actor(agent1):
            inside = _member(initech, "log-inside")
        after = _member(initech, "log-after")
    assert [_actor_of(m) for m in (before, inside, after)] == [acme_admin, agent1, acme_admin]


def test_no_actor_leaves_the_surrounding_one_in_place(initech, acme_admin):
    connection.set_schema_to_public()
    with set_actor(acme_admin), change_log_actor(None):
        system = _member(initech, "log-system")
    with change_log_actor(None):
        alone = _member(initech, "log-alone")
    assert (_actor_of(system), _actor_of(alone)) == (acme_admin, None)
