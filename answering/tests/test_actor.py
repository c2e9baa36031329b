"""acting_as (answering/services/_actor.py): a service names its actor in the change log, and the
enclosing actor (the request's, or a composing service's) is named again afterwards."""

from __future__ import annotations

import pytest
from auditlog.context import set_actor
from auditlog.models import LogEntry
from django_tenants.utils import tenant_context

from answering.services._actor import acting_as
from crm.models import Contact

pytestmark = pytest.mark.django_db


def test_the_enclosing_actor_is_named_again_after_a_nested_service(acme, acme_admin, agent1):
    with tenant_context(acme), set_actor(acme_admin):
        contact = Contact.objects.create(name="Kati Karu")
        with acting_as(agent1):
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


def test_nobody_is_named_for_a_workers_own_write(acme, acme_admin):
    with tenant_context(acme), set_actor(acme_admin):
        with acting_as(None):
            contact = Contact.objects.create(name="Kati Karu")
        assert LogEntry.objects.get_for_object(contact).get().actor is None
