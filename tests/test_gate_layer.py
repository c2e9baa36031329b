"""The layer applies the gates itself (issue 13): inside a person's context, a plain
`Model.objects` read, with no channel base's help, holds only the rows their grants show, never
loads a field their DPA withholds (by any route: `only()`, `values()`, a lazy load, a template, raw
SQL), keeps a related row the object gate withholds closed, and lands in the access log with the
fields it loaded. Written from the side of the person who must not see.

agent1 works for globex, whose DPA withholds callers' numbers; agent2 works for acme with a grant
on the reception line only, and no individual grant on a restricted contact.
"""

from __future__ import annotations

import pytest
from django.db.models import Count
from django.template import Context, Template
from django.utils import timezone
from django_tenants.utils import tenant_context

from answering.models import Call, Line, Message
from audit.models import AccessLogEntry
from crm.models import Contact
from gates.context import person_context, system_context
from gates.engine import policy_for
from gates.managers import FieldWithheld

pytestmark = pytest.mark.django_db
NUMBER = "+37255591234"


def _as(user, company, path):
    policy = policy_for(user=user, company=company)
    return person_context(user=user, company=company, policy=policy, channel="admin", path=path)


def _logged(company, path):
    with tenant_context(company):
        return list(AccessLogEntry.objects.filter(path=path).order_by("pk"))


@pytest.fixture
def globex_call(globex):
    with tenant_context(globex):
        line = Line.objects.get(phone_number="+3726002001")
        contact = Contact.objects.create(name="Numbered Caller", phone_number=NUMBER)
        call = Call.objects.create(
            line=line,
            telephony_sid="CAlay" + "0" * 29,
            started_at=timezone.now(),
            caller_number=NUMBER,
            caller_name="Numbered Caller",
            contact=contact,
        )
        message = Message.objects.create(line=line, call=call, contact=contact, caller_number=NUMBER, body="Hi")
    return call, message


def test_a_withheld_field_is_never_loaded_by_any_route(globex, agent1, globex_call):
    call, message = globex_call
    with tenant_context(globex), _as(agent1, globex, "/probe/withheld/"):
        read = Call.objects.get(pk=call.pk)
        assert "caller_number" in read.get_deferred_fields()
        assert "caller_pseudonym" in read.get_deferred_fields()  # derived: never leaves the database
        assert read.caller_name == "Numbered Caller"  # a granted field loads
        with pytest.raises(FieldWithheld):
            read.caller_number  # noqa: B018 - the lazy load is what must refuse
        assert Template("[{{ call.caller_number }}]").render(Context({"call": read})) == "[]"
        with pytest.raises(FieldWithheld):
            Call.objects.only("caller_number").get(pk=call.pk)
        with pytest.raises(FieldWithheld):
            list(Call.objects.values_list("caller_number", flat=True))
        with pytest.raises(FieldWithheld):
            list(Message.objects.values("pk", "call__caller_number"))
        with pytest.raises(FieldWithheld):
            list(Call.objects.values())  # every column: the withheld one among them
        with pytest.raises(FieldWithheld):
            list(Call.objects.values("caller_number").annotate(n=Count("pk")))  # a count per number
        with pytest.raises(FieldWithheld):
            Call.objects.raw("SELECT * FROM answering_call")
        # Joined in: the number of the message's call is not loaded either.
        joined = Message.objects.select_related("call", "contact").get(pk=message.pk)
        assert "caller_number" in joined.call.get_deferred_fields()
        assert "phone_number" in joined.contact.get_deferred_fields()
        assert "caller_number" in joined.get_deferred_fields()
    # Nothing withheld reached the log as read.
    for entry in _logged(globex, "/probe/withheld/"):
        assert not {"caller_number", "phone_number", "caller_pseudonym"} & set(entry.fields)


def test_a_saved_form_leaves_a_withheld_field_and_its_index_as_they_were(globex, agent1, globex_call):
    call, _message = globex_call
    with tenant_context(globex):
        before = Call.objects.values_list("caller_pseudonym", flat=True).get(pk=call.pk)
        with _as(agent1, globex, "/probe/save/"):
            read = Call.objects.get(pk=call.pk)
            read.caller_name = "Renamed"
            read.save()
        after = Call.objects.get(pk=call.pk)
        assert (after.caller_name, after.caller_number) == ("Renamed", NUMBER)
        assert after.caller_pseudonym == before


def test_a_person_reads_only_the_rows_their_grants_show(acme, agent2):
    with tenant_context(acme):
        granted = Line.objects.get(phone_number="+3726001001")
        other = Line.objects.exclude(pk=granted.pk).first()
        calls = {
            line.pk: Call.objects.create(
                line=line,
                telephony_sid=f"CArow{line.pk:04d}" + "0" * 25,
                started_at=timezone.now(),
                caller_number="+37250000002",
            )
            for line in (granted, other)
        }
        with _as(agent2, acme, "/probe/rows/"):
            seen = set(Call.objects.filter(pk__in=[c.pk for c in calls.values()]).values_list("pk", flat=True))
            assert seen == {calls[granted.pk].pk}
            assert Call.objects.filter(pk=calls[other.pk].pk).count() == 0  # counts too: no oracle
            assert not Message.objects.filter(line=other).exists()
            assert list(granted.calls.filter(pk=calls[other.pk].pk)) == []  # reverse relations too


def test_a_restricted_contact_behind_a_visible_call_stays_closed(acme, agent2):
    with tenant_context(acme):
        vip = Contact.objects.create(restricted=True, name="Vera Salajane", phone_number="+37255500777")
        call = Call.objects.create(
            line=Line.objects.get(phone_number="+3726001001"),
            telephony_sid="CAvipl" + "0" * 28,
            started_at=timezone.now(),
            caller_number="+37250000001",
            contact=vip,
        )
        with _as(agent2, acme, "/probe/related/"):
            joined = Call.objects.select_related("contact").get(pk=call.pk)
            assert {"name", "phone_number", "email"} <= joined.contact.get_deferred_fields()
            with pytest.raises(Contact.DoesNotExist):
                joined.contact.name  # noqa: B018 - loads through the contact's own gate
            assert Template("[{{ call.contact.name }}]").render(Context({"call": joined})) == "[]"
            plain = Call.objects.get(pk=call.pk)
            with pytest.raises(Contact.DoesNotExist):
                plain.contact  # noqa: B018 - the forward relation passes the contact's gate
            assert not Contact.objects.filter(pk=vip.pk).exists()
    assert all(entry.object_type != "crm.Contact" for entry in _logged(acme, "/probe/related/"))


def test_every_read_is_logged_as_the_person_with_the_fields_it_loaded(acme, agent2):
    with tenant_context(acme):
        line = Line.objects.get(phone_number="+3726001001")
        contact = Contact.objects.create(name="Logged Caller", phone_number="+37255500888", email="l@example.ee")
        call = Call.objects.create(
            line=line,
            telephony_sid="CAlog" + "0" * 29,
            started_at=timezone.now(),
            caller_number="+37250000003",
            caller_name="Logged Caller",
        )
        message = Message.objects.create(line=line, call=call, contact=contact, body="Ring back")
        with _as(agent2, acme, "/probe/logged/"):
            list(Call.objects.filter(pk=call.pk))
            list(Message.objects.filter(pk=message.pk).select_related("call").defer("body"))
            list(Message.objects.filter(pk=message.pk).values_list("body", flat=True))  # no id: asked again
            list(Contact.objects.filter(pk=contact.pk).only("name"))
    entries = _logged(acme, "/probe/logged/")
    reads = {(e.object_type, tuple(map(int, e.object_ids)), tuple(e.fields)) for e in entries}
    policy = policy_for(user=agent2, company=acme)
    call_fields = tuple(sorted(f for f in ("caller_name", "caller_number", "notes") if policy.can_read(Call, f)))
    assert ("answering.Call", (call.pk,), call_fields) in reads  # the plain read, and the joined one
    assert ("answering.Message", (message.pk,), ("body",)) in reads
    assert ("crm.Contact", (contact.pk,), ("name",)) in reads
    assert {e.user_id for e in entries} == {agent2.pk}
    assert {e.channel for e in entries} == {"admin"}
    # The deferred body was not loaded, so not logged for the joined read.
    joined = [e for e in entries if e.object_type == "answering.Message" and "body" not in e.fields]
    assert joined == [] or all(set(e.fields) <= {"caller_name", "caller_number", "answers"} for e in joined)


def test_a_jobs_joined_and_values_reads_are_logged_as_that_job(acme):
    with tenant_context(acme):
        line = Line.objects.get(phone_number="+3726001001")
        contact = Contact.objects.create(name="Job Caller", phone_number="+37255500999")
        call = Call.objects.create(
            line=line,
            telephony_sid="CAjob" + "0" * 29,
            started_at=timezone.now(),
            caller_number="+37250000004",
            contact=contact,
        )
        before = AccessLogEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        with system_context(reason="layer test job"):
            list(Call.objects.filter(pk=call.pk).select_related("contact").only("pk", "contact__name"))
            list(Call.objects.filter(pk=call.pk).values_list("caller_number", flat=True))
        entries = list(AccessLogEntry.objects.filter(pk__gt=before, job="layer test job"))
    reads = {(e.object_type, tuple(map(int, e.object_ids)), tuple(e.fields), e.user_id) for e in entries}
    assert ("crm.Contact", (contact.pk,), ("name",), None) in reads
    assert ("answering.Call", (call.pk,), ("caller_number",), None) in reads
    assert {e.channel for e in entries} == {"system"}


@pytest.mark.parametrize("inlined", [1000, 0])
def test_granted_ids_inlined_or_not_show_the_same_rows(acme, agent2, monkeypatch, inlined):
    """Few grants are written into the query as ids, many stay a subquery: the rows are the same,
    and a grant revoked shows at the next context (nothing is remembered across requests)."""
    import gates.engine

    monkeypatch.setattr(gates.engine, "GRANTS_INLINED", inlined)
    with tenant_context(acme):
        granted = Line.objects.get(phone_number="+3726001001")
        expected = set(Call.objects.filter(line=granted).values_list("pk", flat=True))
        with _as(agent2, acme, "/probe/inlined/"):
            query = Call.objects.all()
            sql = str(query.query)
            assert set(query.values_list("pk", flat=True)) == expected
        assert ("UNION" in sql) == (inlined == 0)
        from answering.models import LineUserObjectPermission

        grants = list(LineUserObjectPermission.objects.filter(user=agent2))
        LineUserObjectPermission.objects.filter(user=agent2).delete()
        try:
            with _as(agent2, acme, "/probe/inlined/"):
                assert not Call.objects.exists()
        finally:
            LineUserObjectPermission.objects.bulk_create(grants)


def test_a_bookkeeping_row_joins_in_nothing_withheld(globex, agent1, globex_call):
    """A listen names no personal field and has no object rule of its own, but the voicemail and
    the call it joins in do: the number globex's DPA withholds is not loaded through it either."""
    from answering.models import Listen, Voicemail

    call, _message = globex_call
    with tenant_context(globex):
        voicemail = Voicemail.objects.create(call=call, recording_sid="RE" + "7" * 32, audio="none")
        listen = Listen.objects.create(voicemail=voicemail, user=agent1)
        with _as(agent1, globex, "/probe/bookkeeping/"):
            joined = Listen.objects.select_related("voicemail__call").get(pk=listen.pk)
            assert "caller_number" in joined.voicemail.call.get_deferred_fields()
            with pytest.raises(FieldWithheld):
                list(Listen.objects.values_list("voicemail__call__caller_number", flat=True))
