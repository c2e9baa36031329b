"""The demo's warm transfer, as an agent following the demo meets it: what `seed_demo` gives acme (its
lines' hours and scripts, the emergencies line's rota of dentists with numbers) is enough to accept
a call, answer down the script's emergency branch, transfer warm to the dentist on call (the Twilio
stand-in that `run_demo` starts answers as them) and wrap up, with the transfer's outcome on the
call. The DPO's page then shows what that set-up uses, each integration authorised by acme's DPA;
and agent2, who holds no grant on the emergencies line, is never offered the call."""

from __future__ import annotations

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from answering.models import Call, Disposition, Line, Transfer
from answering.simulator import AS_IF_IN_HOURS
from answering.tests.test_desk_console import EMERGENCIES, _available
from answering.tests.test_telephony import inbound, post
from answering.tests.test_transfer import FETCH, _start, _transfer, _wrap_up_emergency, voice  # noqa: F401 - `voice` is a fixture
from demo.answering import lines_demo
from demo.scheduling import ACME_ON_CALL, scheduling_demo
from desk.models import QueuedCall
from gates.context import system_context
from scheduling.selectors import oncall_for_line
from tenants.models import User

pytestmark = pytest.mark.django_db
QUEUE_SID = "QU" + "2" * 32


def _seed_acme_desk(acme) -> None:
    """What seed_demo seeds for acme's desk beyond the test world (which is seeded without it)."""
    with tenant_context(acme), system_context(reason="seed the demo world"):
        lines_demo("acme")
        scheduling_demo("acme", rich=True)


def _dpo_rows(admin_for, company_name: str) -> dict[str, list[str]]:
    """The DPO workspace's integrations table for one company: {integration label: its cells}."""
    html = admin_for(User.objects.get(username="dpo"), None).get("/admin/dpo/").content.decode()
    table = html.split("Integrations in use, by company")[1].split("</table>")[0]
    rows = {}
    for row in table.split("<tr>")[1:]:
        cells = [cell.split("</td>")[0] for cell in row.split("<td>")[1:]]
        if cells and cells[0] == company_name:
            rows[cells[1]] = cells
    return rows


def test_an_agent_following_the_demo_transfers_an_emergency_warm_to_the_dentist_on_call(
    acme,
    agent1,
    agent2,
    admin_for,
    client_for,
    acme_admin,
    voice,  # noqa: F811 - the fixture imported above
    django_capture_on_commit_callbacks,
):
    _seed_acme_desk(acme)
    with tenant_context(acme):
        line = Line.objects.get(phone_number=EMERGENCIES)
        on_call = [person.phone_number for person in oncall_for_line(line=line, at=timezone.now())]
    assert on_call, "nobody is on call for the emergencies line now"
    assert on_call[0] in ACME_ON_CALL.values()

    # The call, as `simulate_call acme --to +3726001002 --in-hours` places it.
    _available(agent1, agent2)
    params = {**inbound(to=EMERGENCIES), AS_IF_IN_HOURS: "1"}
    with django_capture_on_commit_callbacks(execute=True):
        assert "<Enqueue" in post("/telephony/voice/", params).content.decode()
    with tenant_context(acme):
        call = Call.objects.get(telephony_sid=params["CallSid"])
    hold = {"CallSid": call.telephony_sid, "QueueSid": QUEUE_SID, "QueueTime": "0"}
    assert "<Say>" in post("/telephony/queue/wait/", hold).content.decode()
    queued = QueuedCall.objects.get(company=acme, call_id=call.pk)
    assert queued.offered_to == agent1  # agent2 holds no grant on the emergencies line

    client = admin_for(agent1)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        accepted = client.post(f"/admin/desk/offer/acme/{queued.pk}/accept/")
    assert accepted["Location"] == f"/admin/answering/call/{call.pk}/answer/"
    for future in [callback() for callback in callbacks]:
        if hasattr(future, "result"):
            assert future.result(timeout=30) == ""
    assert [d["call_sid"] for d in voice.dequeues] == [call.telephony_sid]  # out of the hold loop at once
    post("/telephony/status/", {"CallSid": call.telephony_sid, "CallStatus": "in-progress"})

    client = admin_for(agent1, "acme")
    page = client.get(f"/admin/answering/call/{call.pk}/answer/").content.decode()
    assert 'data-action="start"' in page  # the demo's script has its transfer step
    assert "Dialling" in _start(client, call).content.decode()
    dialled = voice.voice_requests[-1][2]
    assert (dialled["To"], dialled["From"]) == (on_call[0], EMERGENCIES)  # the demo's dentist on call

    assert [p["CallStatus"] for _, p, status in voice.deliver() if status == 204] == ["ringing", "in-progress"]
    assert _transfer(acme, call).state == Transfer.State.ANNOUNCING
    bridged = client.post(f"/admin/answering/call/{call.pk}/transfer/", {"action": "bridge"}, **FETCH)
    assert "Put through" in bridged.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        done = _wrap_up_emergency(client, call)
    assert done.status_code == 302
    transfer = _transfer(acme, call)
    assert (transfer.state, transfer.target_kind) == (Transfer.State.BRIDGED, Transfer.Target.ONCALL)
    with tenant_context(acme):
        assert Call.objects.get(pk=call.pk).disposition == Disposition.TRANSFERRED

    html = client_for("acme.localhost", acme_admin).get(f"/calls/{call.pk}/").content.decode()
    assert "Put through" in html
    assert "Reason: Emergency</li>" in html

    # The DPO's page: the rota and the transfer are in use, and acme's DPA authorises each.
    rows = _dpo_rows(admin_for, "Acme Dental Clinic")
    voice_row, sms_row = rows["Telephony (Twilio voice)"], rows["SMS (Twilio)"]
    assert voice_row[-1] == "authorised"
    assert int(voice_row[3]) >= 1  # the transfer's number went to Twilio
    assert sms_row[-1] == "authorised"  # escalations reach the people on call by SMS
