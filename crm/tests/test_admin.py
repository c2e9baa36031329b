"""The contacts admin: an agent's edit meets the CRM's rules (the same errors as the service, the
portal and the API), and is saved normalised, in the change log with the agent as its actor."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django_tenants.utils import tenant_context

from crm.models import Contact
from crm.selectors import contact_find_by_phone
from crm.services import contact_create, contact_update
from tenants.errors import ApplicationError

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_admin(acme):
    with tenant_context(acme):
        return contact_create(name="Admin Edited", phone_number="+37255509101", actor=None)


def _form(client, contact: Contact) -> dict:
    page = client.get(f"/admin/crm/contact/{contact.pk}/change/")
    form = page.context["adminform"].form
    return {name: form.initial.get(name) or "" for name in form.fields}


def test_an_agents_edit_is_normalised_and_logged_with_the_agent(admin_for, agent1, acme, in_admin):
    client = admin_for(agent1, "acme")
    data = _form(client, in_admin) | {"phone_number": "+372 5550 9102"}
    assert client.post(f"/admin/crm/contact/{in_admin.pk}/change/", data).status_code == 302
    with tenant_context(acme):
        assert contact_find_by_phone(number="+37255509102") == in_admin  # stored in E.164, indexed
        entry = LogEntry.objects.get_for_object(in_admin).filter(action=LogEntry.Action.UPDATE).get()
        assert entry.actor == agent1


@pytest.mark.parametrize(("field", "value"), [("phone_number", "5550"), ("email", "no-at-sign"), ("name", " ")])
def test_an_agents_bad_edit_gets_the_services_error(admin_for, agent1, acme, in_admin, field, value):
    with tenant_context(acme), pytest.raises(ApplicationError) as refused:
        contact_update(contact=in_admin, actor=agent1, **{field: value})
    client = admin_for(agent1, "acme")
    response = client.post(f"/admin/crm/contact/{in_admin.pk}/change/", _form(client, in_admin) | {field: value})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors[refused.value.field] == [refused.value.message]
    with tenant_context(acme):
        assert Contact.objects.get(pk=in_admin.pk).phone_number == "+37255509101"
