"""Property: whatever the DPA grants, no admin response ever contains the value of a field whose
category it does not grant to the viewer's role, nor a derived column (a blind index, a pseudonym)
whatever it grants; a message's answers are gated each on its own category; and every personal
field an export returns is in the access log.

Hypothesis draws the granted categories, the viewer, the DPA's state and the answers' categories;
each example writes fresh personal values and then opens every admin surface: changelists, change
forms, history, inlines, search and the CSV exports; every personal value a page or an export
returned is in the access log, on its channel. The client API's lists: tests/test_gates_property_api.py.
"""

from __future__ import annotations

import json
import string
import uuid

import pytest
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from answering.models import Call, Line, Message
from audit.models import AccessLogEntry
from compliance.agreements.models import AgreementVersion, CategoryGrant
from crm.models import Contact
from tenants.categories import cell_fields, covered_by_any, derived_fields, field_category, personal_fields
from tenants.models import User

pytestmark = pytest.mark.django_db

GRANTABLE = [
    "user",
    "user.contact",
    "user.contact.name",
    "user.contact.phone_number",
    "user.contact.email",
    "user.contact.address",
    "user.content.private",
    "user.health",
]
ANSWER_CATEGORIES = ["user.health", "user.contact.address", "user.content.private", "user.contact.email"]
marker = st.text(alphabet=string.ascii_lowercase, min_size=10, max_size=14).map(lambda s: "zq" + s)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    granted=st.sets(st.sampled_from(GRANTABLE), max_size=4),
    viewer=st.sampled_from(["agent1", "supervisor", "dpo"]),
    dpa_state=st.sampled_from(["active", "terminated", "submitted"]),
    values=st.lists(marker, min_size=14, max_size=14, unique=True),
    answer_categories=st.lists(st.sampled_from(ANSWER_CATEGORIES), min_size=2, max_size=2),
)
def test_no_admin_response_contains_an_ungranted_value(
    admin_for, acme, granted, viewer, dpa_state, values, answer_categories
):
    user = User.objects.get(username=viewer)
    with transaction.atomic():
        version = AgreementVersion.objects.get(agreement__company=acme, status="active")
        version.grants.all().delete()
        for category in granted:
            for role in ("agent", "supervisor"):
                CategoryGrant.objects.create(version=version, role=role, category=category, action="read")
        if dpa_state != "active":
            AgreementVersion.objects.filter(pk=version.pk).update(status=dpa_state, ended_at=timezone.now())

        with tenant_context(acme):
            line = Line.objects.get(phone_number="+3726001001")
            contact = Contact.objects.create(
                name=values[0],
                phone_number=values[1],
                email=values[2],
                address=values[3],
                notes=values[4],
                health_notes=values[5],
            )
            call = Call.objects.create(
                line=line,
                telephony_sid=f"CAprop{uuid.uuid4().hex}",
                started_at=timezone.now(),
                caller_name=values[6],
                caller_number=values[7],
                notes=values[8],
                contact=contact,
            )
            answers = {
                f"q{n}": {"label": f"Question {n}", "category": category, "value": values[12 + n]}
                for n, category in enumerate(answer_categories)
            }
            message = Message.objects.create(
                line=line,
                call=call,
                caller_name=values[9],
                caller_number=values[10],
                body=values[11],
                answers=json.dumps(answers),
            )
            logged_before = AccessLogEntry.objects.count()

        client = admin_for(user, "acme")
        exports = [
            client.post("/admin/answering/call/", {"action": "export_csv", "_selected_action": [call.pk]}),
            client.post("/admin/crm/contact/", {"action": "export_csv", "_selected_action": [contact.pk]}),
            client.post("/admin/answering/message/", {"action": "export_csv", "_selected_action": [message.pk]}),
        ]
        pages = [
            client.get("/admin/answering/call/"),
            client.get(f"/admin/answering/call/{call.pk}/change/"),
            client.get(f"/admin/answering/call/{call.pk}/history/"),
            client.get("/admin/answering/call/", {"q": call.telephony_sid}),
            client.get(f"/admin/answering/line/{line.pk}/change/"),
            client.get("/admin/crm/contact/"),
            client.get(f"/admin/crm/contact/{contact.pk}/change/"),
            client.get(f"/admin/answering/message/{message.pk}/change/"),
            client.get("/admin/answering/message/"),
        ]
        admin_body = "\n".join(page.content.decode() for page in pages)
        pages += exports
        body = "\n".join(page.content.decode() for page in pages)
        assert all(page.status_code == 200 for page in pages), [p.status_code for p in pages]

        role_grants = granted if (dpa_state == "active" and viewer in ("agent1", "supervisor")) else set()
        records = ((contact, Contact), (call, Call), (message, Message))
        never = {getattr(obj, f) for obj, model in records for f in derived_fields(model)} - {""}
        shown = {
            getattr(obj, f): c
            for obj, model in records
            for f, c in personal_fields(model).items()
            if f not in derived_fields(model) and f not in cell_fields(model)
        }
        for value, category in shown.items():
            if covered_by_any(role_grants, category):
                assert value in body, f"{category} is granted but {value} is not shown: the test would be vacuous"
            else:
                assert value not in body, f"{category} is not granted to {viewer}, yet its value was sent"
        for value in never:
            assert value not in body, "a derived column left the database"
        for answer in answers.values():
            readable = covered_by_any(role_grants, field_category(Message, "answers")) and covered_by_any(
                role_grants, answer["category"]
            )
            assert (answer["value"] in body) == readable, (answer["category"], role_grants)

        # Every personal field an admin page or an export returned is in the access log, on its
        # channel, for the rows it returned.
        with tenant_context(acme):
            entries = list(AccessLogEntry.objects.order_by("pk")[logged_before:])
        for channel, returned_body in (
            ("export", "\n".join(p.content.decode() for p in exports)),
            ("admin", admin_body),
        ):
            logged = {
                (entry.object_type, field, oid)
                for entry in entries
                if entry.channel == channel and not entry.refused
                for field in entry.fields
                for oid in entry.object_ids
            }
            for obj, model in records:
                for name in personal_fields(model):
                    value = getattr(obj, name)
                    returned = (
                        value in returned_body
                        if name not in cell_fields(model)
                        else any(a["value"] in returned_body for a in answers.values())
                    )
                    if value and returned:
                        assert (model._meta.label, name, str(obj.pk)) in logged, (
                            f"{model.__name__}.{name} shown on the {channel} channel but not logged"
                        )
        transaction.set_rollback(True)
