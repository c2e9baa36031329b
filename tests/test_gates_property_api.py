"""Property: every list of the client REST API holds exactly what its rule grants, and logs it.

The API's rule (`api/base.py`, docs/api.md "Scopes" and "Resources"): only the host company's own
client users get in (anyone else: 404); a list needs `<api_scope>:read`, which a session has for
every scope of the person's role and a token only for the scopes it was issued with, within the role
(members never hold `access_log`, `data_requests`, `team`, `webhooks`); without it, a 403 with no
data. Client users act for the controller, so within a list they may read, every row of their
company is visible and every personal field the serializer names is shown in full: the DPA's
grants, its state and the agents' object grants (the provider's gates) change nothing here. What
is never sent: a derived column (a blind index, a pseudonym), another company's row, and a
personal field whose read is not in the company's access log, for that row.

Hypothesis draws the DPA's grants and state, agents' object grants and a contact's restriction
(which must not matter), the viewer, session or token and the token's scopes, and fresh personal
values; each example writes them into acme (and another set into globex) and reads every list.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from django.contrib.auth.models import Permission
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context
from hypothesis import HealthCheck, Phase, assume, example, given, settings
from hypothesis import strategies as st
from rest_framework import serializers

from answering.api.calls import CallOutputSerializer
from answering.api.messages import MessageOutputSerializer
from answering.api.voicemail import VoicemailOutputSerializer
from answering.models import Call, Line, LineUserObjectPermission, Message, Voicemail
from api.tokens.scopes import scopes_for_role
from audit.api.views import DsrOutputSerializer
from audit.dsr import dsr_forward
from audit.models import AccessLogEntry, DataSubjectRequest
from compliance.agreements.models import AgreementVersion, CategoryGrant
from crm.api.serializers import ConsentOutputSerializer, ContactOutputSerializer
from crm.models import ConsentRecord, Contact
from gates.engine import Role, role_in
from scheduling.api.serializers import AppointmentOutputSerializer
from scheduling.models import Appointment, Resource
from tenants.categories import cell_fields, derived_fields, personal_fields
from tenants.models import ClientCompany, Membership, User
from tests.test_gates_property import ANSWER_CATEGORIES, GRANTABLE, marker

pytestmark = pytest.mark.django_db

# The lists that return a company's rows with personal fields: (path, api_scope, serializer).
# `{contact}` is the fresh contact's id (its consent history).
PERSONAL_LISTS = [
    ("/api/v1/calls/", "calls", CallOutputSerializer),
    ("/api/v1/messages/", "messages", MessageOutputSerializer),
    ("/api/v1/voicemail/", "voicemail", VoicemailOutputSerializer),
    ("/api/v1/contacts/", "contacts", ContactOutputSerializer),
    ("/api/v1/contacts/{contact}/consents/", "contacts", ConsentOutputSerializer),
    ("/api/v1/appointments/", "appointments", AppointmentOutputSerializer),
    ("/api/v1/data-subject-requests/", "data_requests", DsrOutputSerializer),
]
# The other lists of tenant data: no personal field of a caller, but gated all the same.
OTHER_LISTS = [
    ("/api/v1/lines/", "lines"),
    ("/api/v1/access-log/", "access_log"),
    ("/api/v1/analytics/line-days/", "analytics"),
    ("/api/v1/services/", "appointments"),
    ("/api/v1/resources/", "appointments"),
    ("/api/v1/webhooks/", "webhooks"),
]
READ_SCOPES = sorted({f"{scope}:read" for _, scope, *_ in PERSONAL_LISTS + OTHER_LISTS})
MEMBER = "acme-member-property"


def personal_sources(serializer_class) -> dict[str, tuple[type, str, str]]:
    """What each output key of `serializer_class` reads that is personal: {key: (model, field, the
    output key holding that row's id)}. Found from the serializer itself, so a field added to an
    API is covered the day it is added."""
    model = serializer_class.Meta.model
    names = list(serializer_class().fields)
    found = {}
    for key, field in serializer_class().fields.items():
        if isinstance(field, serializers.SerializerMethodField) or field.source == "*":
            if key in personal_fields(model):
                found[key] = (model, key, "id")
            continue
        current, id_key, parts = model, "id", field.source.split(".")
        for hop in parts[:-1]:
            relation = current._meta.get_field(hop)
            candidates = [name for name in (f"{hop}_id", hop) if name in names] if current is model else []
            id_key = candidates[0] if candidates else None
            current = relation.related_model
        if parts[-1] in personal_fields(current):
            assert id_key is not None, (
                f"{serializer_class.__name__}.{key} reads {current.__name__} with no id beside it"
            )
            found[key] = (current, parts[-1], id_key)
    return found


def _stored(obj, source: str):
    for hop in source.split("."):
        obj = getattr(obj, hop) if obj is not None else None
    return obj


def _world(company: ClientCompany, values: list[str], answer_categories: list[str], *, restricted: bool, raiser):
    """Fresh records with personal values in `company`: {model: object}."""
    with tenant_context(company):
        line = Line.objects.order_by("pk").first()
        contact = Contact.objects.create(
            name=values[0],
            phone_number=values[1],
            email=values[2],
            address=values[3],
            notes=values[4],
            health_notes=values[5],
            restricted=restricted,
        )
        call = Call.objects.create(
            line=line,
            telephony_sid=f"CAapi{uuid.uuid4().hex}",
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
            contact=contact,
            caller_name=values[9],
            caller_number=values[10],
            body=values[11],
            answers=json.dumps(answers),
        )
        voicemail = Voicemail.objects.create(
            call=call, recording_sid=f"RE{uuid.uuid4().hex}", audio="none", transcription=values[14]
        )
        consent = ConsentRecord.objects.create(
            contact=contact, purpose="sms", granted=True, method="verbal", evidence=values[15]
        )
        resource = Resource.objects.filter(services__isnull=False).order_by("pk").first()
        appointment = None
        if resource is not None:  # globex keeps a rota, not a calendar
            starts = dt.datetime(2031, 1, 6, 9, 0, tzinfo=dt.UTC)
            appointment = Appointment.objects.create(
                resource=resource,
                service=resource.services.order_by("pk").first(),
                contact=contact,
                starts_at=starts,
                ends_at=starts + dt.timedelta(minutes=30),
                blocked=(starts, starts + dt.timedelta(minutes=30)),
                notes=values[16],
            )
        digits = "".join(str(ord(ch) % 10) for ch in values[0][:4])
        dsr = dsr_forward(kind="access", actor=raiser, phone_number=f"+3725559{digits}")
    return {
        Contact: contact,
        Call: call,
        Message: message,
        Voicemail: voicemail,
        ConsentRecord: consent,
        Appointment: appointment,
        DataSubjectRequest: dsr,
        "answers": answers,
    }


# Each example writes into two schemas and reads 13 lists: no shrinking (slow), the failing example
# is printed as drawn.
@settings(
    max_examples=15,
    deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    granted=st.sets(st.sampled_from(GRANTABLE), max_size=4),
    dpa_state=st.sampled_from(["active", "terminated", "submitted"]),
    agent_grant=st.booleans(),
    restricted=st.booleans(),
    viewer=st.sampled_from(["acme-admin", MEMBER, "agent1", "globex-admin"]),
    by_token=st.booleans(),
    token_scopes=st.sets(st.sampled_from(READ_SCOPES), min_size=1),
    values=st.lists(marker, min_size=17, max_size=17, unique=True),
    elsewhere=st.lists(marker, min_size=17, max_size=17, unique=True),
    answer_categories=st.lists(st.sampled_from(ANSWER_CATEGORIES), min_size=2, max_size=2),
)
# The controller's admin by session, and a member's token (no admin-only scope), every time.
@example(
    granted=set(),
    dpa_state="terminated",
    agent_grant=False,
    restricted=True,
    viewer="acme-admin",
    by_token=False,
    token_scopes={"calls:read"},
    values=[f"zqours{chr(97 + n)}kxwvbnm" for n in range(17)],
    elsewhere=[f"zqtheirs{chr(97 + n)}kxwvbn" for n in range(17)],
    answer_categories=["user.health", "user.contact.email"],
)
@example(
    granted={"user"},
    dpa_state="active",
    agent_grant=True,
    restricted=False,
    viewer=MEMBER,
    by_token=True,
    token_scopes={"calls:read", "contacts:read", "appointments:read", "data_requests:read", "voicemail:read"},
    values=[f"zqmine{chr(97 + n)}kxwvbnm" for n in range(17)],
    elsewhere=[f"zqyours{chr(97 + n)}kxwvbn" for n in range(17)],
    answer_categories=["user.content.private", "user.health"],
)
def test_every_api_list_holds_exactly_the_rows_and_fields_its_rule_grants_and_logs_them(
    client_for,
    acme,
    globex,
    granted,
    dpa_state,
    agent_grant,
    restricted,
    viewer,
    by_token,
    token_scopes,
    values,
    elsewhere,
    answer_categories,
):
    from api.tokens.services import token_create

    # Each value must be findable on its own: none inside another (markers differ in length).
    drawn = [*values, *elsewhere]
    assume(not any(a in b for i, a in enumerate(drawn) for j, b in enumerate(drawn) if i != j))
    with transaction.atomic():
        # The provider's gates, drawn: none of them may change what the controller's people read.
        version = AgreementVersion.objects.get(agreement__company=acme, status="active")
        version.grants.all().delete()
        for category in granted:
            CategoryGrant.objects.create(version=version, role="agent", category=category, action="read")
        if dpa_state != "active":
            AgreementVersion.objects.filter(pk=version.pk).update(status=dpa_state, ended_at=timezone.now())
        member = User.objects.create_user(MEMBER, password="x")
        Membership.objects.create(user=member, company=acme, role=Membership.Role.CLIENT_MEMBER)
        ours = _world(acme, values, answer_categories, restricted=restricted, raiser=User.objects.get(username="dpo"))
        theirs = _world(
            globex, elsewhere, answer_categories, restricted=restricted, raiser=User.objects.get(username="dpo")
        )
        with tenant_context(acme):
            # Agents' grants on the rows' line: all taken away, or given to both.
            line = ours[Call].line
            if agent_grant:
                for agent in User.objects.filter(username__in=["agent1", "agent2"]):
                    LineUserObjectPermission.objects.get_or_create(
                        user=agent, permission=Permission.objects.get(codename="view_line"), content_object=line
                    )
            else:
                LineUserObjectPermission.objects.filter(content_object=line).delete()
            logged_before = AccessLogEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

        user = User.objects.get(username=viewer)
        role = role_in(user=user, company=acme)
        allowed = scopes_for_role(role)
        issued = set(token_scopes) & allowed if by_token and role in Role.CLIENT else set()
        client = client_for("acme.localhost", None if issued else user)
        if issued:
            _, secret = token_create(
                company=acme, user=user, name="property", scopes=issued, expires_in_days=1, actor=user
            )
            client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
        effective = issued if issued else allowed

        other = set(elsewhere)
        derived = {
            getattr(obj, name)
            for records in (ours, theirs)
            for model, obj in records.items()
            if isinstance(model, type) and obj is not None
            for name in derived_fields(model)
        } - {"", None}
        assert derived, "no derived value to look for: the test would be vacuous"
        reads = []
        for path, scope in [(p, s) for p, s, _ in PERSONAL_LISTS] + OTHER_LISTS:
            url = path.format(contact=ours[Contact].pk)
            response = client.get(url, {"limit": 500})
            body = response.content.decode()
            for value in other | derived:
                assert value not in body, f"{url}: another company's value or a derived column was sent"
            if role not in Role.CLIENT:
                assert response.status_code == 404, (viewer, url, response.status_code)
            elif f"{scope}:read" not in effective:
                assert response.status_code == 403, (viewer, url, response.status_code)
            else:
                assert response.status_code == 200, (viewer, url, response.status_code, body[:300])
            if response.status_code != 200:
                for value in values:
                    assert value not in body, f"{url} refused with {response.status_code} but sent a value"
                continue
            reads.append((path, response.json()))

        # Who may not get in, or has no scope for a list, leaves no read of it in the log.
        with tenant_context(acme):
            entries = list(AccessLogEntry.objects.filter(pk__gt=logged_before, channel="api", refused=False))
        logged = {(e.object_type, f, str(oid)) for e in entries for f in e.fields for oid in e.object_ids}
        if not reads:
            assert not logged, logged
            transaction.set_rollback(True)
            return

        serializer_of = {path: serializer for path, _, serializer in PERSONAL_LISTS}
        for path, data in reads:
            if path not in serializer_of:
                continue
            serializer = serializer_of[path]
            model = serializer.Meta.model
            rows = data["results"]
            with tenant_context(acme):
                company_ids = set(model.objects.values_list("pk", flat=True))
                assert data["count"] <= 500, "more rows than one page: the check of the visible set would be partial"
            returned = {row["id"] for row in rows}
            assert returned <= company_ids, f"{path}: a row of no row of acme's"
            mine = ours[model]
            assert mine.pk in returned, f"{path}: a row of the company is missing (restricted={restricted})"
            row = next(r for r in rows if r["id"] == mine.pk)
            sources = personal_sources(serializer)
            # Exactly the serializer's fields, the personal ones in full: nothing masked for the controller.
            assert set(row) == set(serializer().fields), path
            for key, (source_model, name, _) in sources.items():
                field = serializer().fields[key]
                if name in cell_fields(source_model):
                    expected = sorted(a["value"] for a in ours["answers"].values())
                    assert sorted(cell["value"] for cell in row[key]) == expected, key
                else:
                    with tenant_context(acme):
                        stored = _stored(model.objects.get(pk=mine.pk), field.source)
                    assert row[key] == stored, (path, key)
            # Every personal value returned is in the access log, for the row it came from.
            for returned_row in rows:
                for key, (source_model, name, id_key) in sources.items():
                    if returned_row[key] in ("", None, [], {}):
                        continue
                    entry = (source_model._meta.label, name, str(returned_row[id_key]))
                    assert entry in logged, f"{path}: {key} of row {returned_row['id']} returned but not logged"
        transaction.set_rollback(True)
