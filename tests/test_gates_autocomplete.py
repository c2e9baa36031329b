"""The admin's pickers (Django's `/admin/autocomplete/`) run inside the company chosen with the
switcher and through its gates, tested from the side of those who must not find what they search.

acme's DPA grants agents names, numbers and e-mail; globex's grants names only. The demo's first
caller of each company (Mari Tamm, +37251234501) is restricted: agent2 holds no grant on acme's.
"""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from crm.models import Contact
from tenants.models import User

pytestmark = pytest.mark.django_db

AUTOCOMPLETE = "/admin/autocomplete/"
PICKERS = [
    {"app_label": "scheduling", "model_name": "appointment", "field_name": "contact"},
    {"app_label": "answering", "model_name": "call", "field_name": "contact"},
    {"app_label": "answering", "model_name": "call", "field_name": "line"},
]


def _results(client, term: str = "", picker: dict = PICKERS[0]) -> list[dict]:
    response = client.get(AUTOCOMPLETE, {**picker, "term": term})
    assert response.status_code == 200
    return response.json()["results"]


def _contact(company, name: str) -> Contact:
    with tenant_context(company):
        return next(contact for contact in Contact.objects.order_by("pk") if contact.name == name)


@pytest.mark.parametrize("username", ["agent1", "agent2", "supervisor", "dpo"])
@pytest.mark.parametrize("picker", PICKERS, ids=lambda p: f"{p['model_name']}.{p['field_name']}")
def test_every_staff_role_gets_an_answer_never_a_500(admin_for, username, picker):
    user = User.objects.get(username=username)
    assert admin_for(user, "acme").get(AUTOCOMPLETE, {**picker, "term": ""}).status_code == 200
    # No company chosen, a company the person is not assigned to: nothing to search in.
    assert admin_for(user).get(AUTOCOMPLETE, {**picker, "term": ""}).status_code == 404
    assert admin_for(user, "hooli-none").get(AUTOCOMPLETE, {**picker, "term": ""}).status_code == 404


def test_a_provider_admin_not_assigned_to_the_company_gets_404(admin_for):
    client = admin_for(User.objects.get(username="provider-admin"), "acme")
    assert client.get(AUTOCOMPLETE, {**PICKERS[0], "term": ""}).status_code == 404


def test_an_agent_of_another_company_gets_404(admin_for, agent2):
    assert admin_for(agent2, "globex").get(AUTOCOMPLETE, {**PICKERS[0], "term": ""}).status_code == 404


def test_an_agent_without_the_grant_never_finds_the_restricted_contact(admin_for, agent2, acme):
    vip, other = _contact(acme, "Mari Tamm"), _contact(acme, "Jaan Kask")
    client = admin_for(agent2, "acme")
    listed = {row["id"] for row in _results(client)}
    assert str(other.pk) in listed
    assert str(vip.pk) not in listed
    for term in ("Mari Tamm", "+37251234501", "mari.tamm@example.ee", str(vip.pk)):
        assert _results(client, term) == [], term
    found = _results(client, "Jaan Kask")
    assert found == [{"id": str(other.pk), "text": f"Contact #{other.pk} · Jaan Kask"}]
    assert [row["id"] for row in _results(client, "+372 5123 4502")] == [str(other.pk)]


def test_with_the_grant_the_restricted_contact_is_found(admin_for, agent2, acme):
    from guardian.shortcuts import assign_perm

    vip = _contact(acme, "Mari Tamm")
    with tenant_context(acme):
        assign_perm("crm.view_contact", agent2, vip)
    assert [row["id"] for row in _results(admin_for(agent2, "acme"), "Mari Tamm")] == [str(vip.pk)]


def test_a_globex_agent_finds_nothing_by_number(admin_for, agent1, globex):
    other = _contact(globex, "Jaan Kask")
    client = admin_for(agent1, "globex")
    for term in ("+37251234502", "+372 5123 4502", "jaan.kask@example.ee"):
        assert _results(client, term) == [], term  # numbers and e-mail are not granted: not searched
    found = _results(client, "Jaan Kask")
    assert found == [{"id": str(other.pk), "text": f"Contact #{other.pk} · Jaan Kask"}]
    assert all("+372" not in row["text"] for row in _results(client))


def test_the_dpo_sees_no_personal_field_and_searches_none(admin_for, acme):
    client = admin_for(User.objects.get(username="dpo"), "acme")
    listed = _results(client)
    assert listed
    assert all(row["text"] == f"Contact #{row['id']}" for row in listed)
    assert _results(client, "Jaan Kask") == []


def test_the_names_a_picker_shows_are_in_the_access_log(admin_for, agent2, acme):
    from audit.models import AccessLogEntry

    other = _contact(acme, "Jaan Kask")
    _results(admin_for(agent2, "acme"), "Jaan Kask")
    with tenant_context(acme):
        entry = AccessLogEntry.objects.filter(user=agent2, object_type="crm.Contact").order_by("-pk").first()
        assert entry is not None
        assert str(other.pk) in entry.object_ids
        assert "name" in entry.fields


def test_the_call_form_picks_its_contact_with_the_gated_autocomplete(admin_for, agent2, acme):
    from answering.models import Call

    with tenant_context(acme):
        call = Call.objects.filter(line__phone_number="+3726001001", contact__restricted=False).first()
    page = admin_for(agent2, "acme").get(f"/admin/answering/call/{call.pk}/change/").content.decode()
    assert 'data-ajax--url="/admin/autocomplete/"' in page
    assert f'<option value="{call.contact_id}" selected>Contact #{call.contact_id}</option>' in page
