"""Property: whatever the DPA grants, no admin response ever contains the value of a field whose
category it does not grant to the viewer's role.

Hypothesis draws the granted categories, the viewer and the DPA's state; each example writes fresh
personal values and then opens every admin surface: changelists, change forms, history, inlines,
search and the CSV export.
"""

from __future__ import annotations

import string
import uuid

import pytest
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from answering.models import Call, Line
from compliance.agreements.models import AgreementVersion, CategoryGrant
from crm.models import Contact
from tenants.categories import covered_by_any, personal_fields
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
marker = st.text(alphabet=string.ascii_lowercase, min_size=10, max_size=14).map(lambda s: "zq" + s)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    granted=st.sets(st.sampled_from(GRANTABLE), max_size=4),
    viewer=st.sampled_from(["agent1", "supervisor", "dpo"]),
    dpa_state=st.sampled_from(["active", "terminated", "submitted"]),
    values=st.lists(marker, min_size=9, max_size=9, unique=True),
)
def test_no_admin_response_contains_an_ungranted_value(admin_for, acme, granted, viewer, dpa_state, values):
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

        client = admin_for(user, "acme")
        pages = [
            client.get("/admin/answering/call/"),
            client.get(f"/admin/answering/call/{call.pk}/change/"),
            client.get(f"/admin/answering/call/{call.pk}/history/"),
            client.get("/admin/answering/call/", {"q": call.telephony_sid}),
            client.get(f"/admin/answering/line/{line.pk}/change/"),
            client.get("/admin/crm/contact/"),
            client.get(f"/admin/crm/contact/{contact.pk}/change/"),
            client.post("/admin/answering/call/", {"action": "export_csv", "_selected_action": [call.pk]}),
            client.post("/admin/crm/contact/", {"action": "export_csv", "_selected_action": [contact.pk]}),
        ]
        body = "\n".join(page.content.decode() for page in pages)
        assert all(page.status_code == 200 for page in pages), [p.status_code for p in pages]

        role_grants = granted if (dpa_state == "active" and viewer in ("agent1", "supervisor")) else set()
        shown = {
            **{getattr(contact, f): c for f, c in personal_fields(Contact).items()},
            **{getattr(call, f): c for f, c in personal_fields(Call).items()},
        }
        for value, category in shown.items():
            if covered_by_any(role_grants, category):
                assert value in body, f"{category} is granted but {value} is not shown: the test would be vacuous"
            else:
                assert value not in body, f"{category} is not granted to {viewer}, yet its value was sent"
        transaction.set_rollback(True)
