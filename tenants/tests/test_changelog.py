"""The change log's actor around a service: it nests, and gives the surrounding context back."""

from __future__ import annotations

import pytest
from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.db import connection
from django_tenants.utils import tenant_context

from crm.models import Contact
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


def test_the_enclosing_actor_is_named_again_after_a_nested_service(acme, acme_admin, agent1):
    with tenant_context(acme), set_actor(acme_admin):
        contact = Contact.objects.create(name="Kati Karu")
        with change_log_actor(agent1):
            contact.notes = "Prefers e-mail"
            contact.save(update_fields=["notes"])
        contact.address = "Tartu"
        contact.save(update_fields=["address"])
        entries = LogEntry.objects.get_for_object(contact).order_by("pk")
        assert [(e.action, e.actor) for e in entries] == [
            (LogEntry.Action.CREATE, acme_admin),
            (LogEntry.Action.UPDATE, agent1),
            (LogEntry.Action.UPDATE, acme_admin),
        ]


def test_nobody_is_named_for_a_workers_own_write(acme):
    # A worker has no request, so nothing around the service names anyone.
    with tenant_context(acme):
        with change_log_actor(None):
            contact = Contact.objects.create(name="Kati Karu")
        assert LogEntry.objects.get_for_object(contact).get().actor is None
