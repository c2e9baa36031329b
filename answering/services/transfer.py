"""Warm transfer: the agent puts the caller through to the client's person on call (or the number
the script's transfer step names), after announcing them.

The flow, in Twilio's own conventions (REST API 2010-04-01):
1. the caller's live call is updated with new TwiML, `<Dial><Conference>` (POST Calls/{CallSid}.json
   with `Twiml`): they leave the agent's `<Dial><Client>` for a conference of their own;
2. the agent's softphone is dialled into it (POST Conferences/{name}/Participants.json,
   `To=client:agent-<id>`), and the caller is put on hold there (POST .../Participants/{CallSid}.json,
   `Hold=true`), so the agent can speak to the person on call alone;
3. the person on call is dialled into it (Participants.json with `To`, `Timeout` and a signed
   `StatusCallback`, `/telephony/transfer/status/`): `ringing`, then `in-progress` (they answered:
   the agent announces the caller) or `no-answer` / `busy` / `failed` (the caller comes off hold,
   back with the agent, who takes a message);
4. **Bridge**: the caller comes off hold and the agent's leg is removed (DELETE
   .../Participants/{agent's CallSid}.json); or **Return**: the person on call is removed and the
   caller comes off hold, and the agent takes a message.

These are calls to Twilio's REST API made in the request, with a timeout, not outbox side effects
(operations/outbox/): a live call cannot wait for a relay or be retried a minute later, and the
agent must know at once whether the caller was moved. A failure of any step is the transfer's
`failed` state with Twilio's reason (scrubbed of numbers), the caller brought back to the agent
where the call still allows it, and a clear message; nothing is lost, since the agent then takes a
message on the same call.

The number dialled is personal data: the engine reads the rota and writes the number under its
own context (`system_context(reason="warm transfer")`), after the channel's base has fetched the
call through the agent's object gate; the agent sees the number only where the DPA grants them
phone numbers, and the DPA must let it go to Twilio (`gates.outbound`, `twilio_voice`).
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from twilio.twiml.voice_response import VoiceResponse

from answering.models import Call, Transfer
from gates.context import system_context
from gates.outbound import outbound_check
from tenants.errors import ApplicationError
from tenants.integrations import TWILIO_VOICE
from tenants.models import User
from tenants.scrub import provider_text_scrub
from tenants.sms import TwilioError, twilio_rest

logger = logging.getLogger(__name__)
REST_TIMEOUT_SECONDS = 8
RING_SECONDS = 25
PHONE = "user.contact.phone_number"
FAILED_STATUSES = {
    "no-answer": "the person did not answer",
    "busy": "the line was busy",
    "failed": "the call could not be placed",
    "canceled": "the call was cancelled",
}


def _twilio(method: str, resource: str, form: dict | None = None) -> dict:
    return twilio_rest(method, resource, form, timeout=REST_TIMEOUT_SECONDS, refused="Twilio answered")


def _push(transfer: Transfer) -> None:
    from desk.push import push_to_agent

    agent_id, pk, state = transfer.agent_id, transfer.pk, transfer.state
    transaction.on_commit(lambda: push_to_agent(user_id=agent_id, kind="transfer", transfer=pk, state=state))


def transfer_callback_url(*, callback_base: str, transfer: Transfer) -> str:
    return f"{callback_base.rstrip('/')}/transfer/status/?transfer={transfer.pk}"


def _target_number(*, call: Call, target: str, now: dt.datetime) -> tuple[str, str]:
    """(kind, number) for a script's transfer target: the first person on the line's rota now
    who has a number, or the E.164 number the script names."""
    if target != "oncall":
        return Transfer.Target.NUMBER, target
    from scheduling.selectors import oncall_for_line

    for person in oncall_for_line(line=call.line, at=now):
        if person.phone_number:
            return Transfer.Target.ONCALL, person.phone_number
    raise ApplicationError("nobody with a phone number is on call for this line now: take a message", field="target")


def transfer_start(
    *, call: Call, actor: User, target: str, callback_base: str, now: dt.datetime | None = None
) -> Transfer:
    """Begin a warm transfer of the live `call` (fetched through `actor`'s gates) to `target`
    ("oncall" or an E.164 number, from the script's transfer step). Returns the transfer, `dialling`,
    or `failed` with the reason when Twilio refused a step (the caller is then back with the agent).
    Raises ApplicationError when no transfer can begin at all (the call is closed or another
    agent's, a transfer is already open, nobody is on call, the DPA does not let the number go)."""
    from desk.models import QueuedCall
    from desk.selectors import queued_for_call

    now = now or timezone.now()
    if call.disposition or call.status in (Call.Status.COMPLETED, Call.Status.MISSED):
        raise ApplicationError(f"{call} is no longer live: it cannot be transferred", field="call")
    queued = queued_for_call(company=connection.tenant, call_id=call.pk)
    if queued is not None and (queued.state != QueuedCall.State.CONNECTED or queued.offered_to_id != actor.pk):
        raise ApplicationError(f"{call} is not on your line: only the agent who took it transfers it", field="call")
    with system_context(reason="warm transfer"):
        kind, number = _target_number(call=call, target=target, now=now)
        try:
            with transaction.atomic():
                transfer = Transfer.objects.create(
                    call_id=call.pk,
                    agent=actor,
                    target_kind=kind,
                    target_number=number,
                    conference_name=f"transfer-{secrets.token_hex(12)}",
                    started_at=now,
                )
                _push(transfer)
        except IntegrityError:
            raise ApplicationError("a transfer of this call is already under way", field="call") from None
        decision = outbound_check(
            integration=TWILIO_VOICE,
            categories=[PHONE],
            model=Transfer,
            object_ids=[transfer.pk],
            fields=["target_number"],
            path="transfer",
        )
        if not decision.allowed:
            _failed(transfer, f"the DPA does not let the number go to Twilio ({decision.reason})", now=now)
            return transfer
        try:
            _dial(transfer=transfer, call=call, number=number, callback_base=callback_base)
        except TwilioError as exc:
            _failed(transfer, str(exc), now=now)
        return transfer


def _dial(*, transfer: Transfer, call: Call, number: str, callback_base: str) -> None:
    twiml = VoiceResponse()
    twiml.dial().conference(
        transfer.conference_name, start_conference_on_enter=True, end_conference_on_exit=False, beep=False
    )
    _twilio("POST", f"Calls/{call.telephony_sid}.json", {"Twiml": str(twiml)})
    transfer.caller_moved = True  # from here on, a failure must bring the caller back
    conference = f"Conferences/{transfer.conference_name}/Participants.json"
    line_number = call.line.phone_number
    agent = _twilio(
        "POST",
        conference,
        {"To": f"client:agent-{transfer.agent_id}", "From": line_number, "Label": "agent", "Beep": "false"},
    )
    transfer.conference_sid, transfer.agent_call_sid = agent.get("conference_sid", ""), agent.get("call_sid", "")
    transfer.save(update_fields=["conference_sid", "agent_call_sid"])
    _twilio("POST", f"Conferences/{transfer.conference_sid}/Participants/{call.telephony_sid}.json", {"Hold": "true"})
    dialled = _twilio(
        "POST",
        conference,
        {
            "To": number,
            "From": line_number,
            "Label": "transfer-target",
            "Timeout": str(RING_SECONDS),
            "StatusCallback": transfer_callback_url(callback_base=callback_base, transfer=transfer),
            "StatusCallbackMethod": "POST",
            "StatusCallbackEvent": "initiated ringing answered completed",
            "EndConferenceOnExit": "false",
        },
    )
    transfer.target_call_sid = dialled.get("call_sid", "")
    transfer.save(update_fields=["target_call_sid"])


def _caller_back(transfer: Transfer) -> str:
    """Bring the caller back to the agent; '' or why it could not be done. In the conference with
    the agent: off hold. Moved to the conference before the agent's leg joined it: dialled
    through to the agent's softphone again, as when they accepted the call."""
    moved = getattr(transfer, "caller_moved", False)
    if not transfer.conference_sid and not moved:
        return ""  # the caller never left the agent
    sid = Call.objects.filter(pk=transfer.call_id).values_list("telephony_sid", flat=True).first()
    try:
        if transfer.conference_sid:
            _twilio("POST", f"Conferences/{transfer.conference_sid}/Participants/{sid}.json", {"Hold": "false"})
        else:
            twiml = VoiceResponse()
            twiml.dial().client(f"agent-{transfer.agent_id}")
            _twilio("POST", f"Calls/{sid}.json", {"Twiml": str(twiml)})
    except TwilioError as exc:
        logger.warning("transfer %s: the caller could not be taken off hold: %s", transfer.pk, exc)
        return str(exc)
    return ""


def _failed(transfer: Transfer, reason: str, *, now: dt.datetime) -> None:
    not_back = _caller_back(transfer)
    transfer.state, transfer.ended_at = Transfer.State.FAILED, now
    still = f"; and the caller is still on hold: {not_back}" if not_back else ""
    transfer.failure = provider_text_scrub(reason + still)
    with transaction.atomic():
        transfer.save(update_fields=["state", "ended_at", "failure"])
        _push(transfer)


def _locked(transfer_id: int) -> Transfer | None:
    return Transfer.objects.select_for_update().filter(pk=transfer_id).first()


def transfer_status(*, transfer_id: int, params: dict, now: dt.datetime | None = None) -> Transfer | None:
    """Twilio's status callback for the dialled leg (signed; the telephony webhook's context):
    answered moves the transfer to `announcing`; no answer, busy or a failure, and a hang-up
    before the bridge, bring the caller back to the agent (`failed`). Replays change nothing."""
    now = now or timezone.now()
    status = params.get("CallStatus", "")
    with transaction.atomic():
        transfer = _locked(transfer_id)
        if transfer is None or (transfer.target_call_sid and transfer.target_call_sid != params.get("CallSid")):
            return None
        if status == "in-progress" and transfer.state == Transfer.State.DIALLING:
            transfer.state, transfer.answered_at = Transfer.State.ANNOUNCING, now
            transfer.save(update_fields=["state", "answered_at"])
            _push(transfer)
            return transfer
        if transfer.state not in Transfer.OPEN_STATES:
            return transfer
        if status in FAILED_STATUSES:
            reason = FAILED_STATUSES[status]
        elif status == "completed":
            reason = "the person hung up before the caller was put through"
        else:
            return transfer
    _failed(transfer, reason, now=now)
    return transfer


def _open(transfer: Transfer, *, actor: User, states=Transfer.OPEN_STATES) -> Transfer:
    locked = _locked(transfer.pk)
    if locked is None or locked.agent_id != actor.pk:
        raise ApplicationError("this transfer is not yours", field="transfer")
    if locked.state not in states:
        raise ApplicationError(
            f"the transfer is {locked.get_state_display().lower()}, so this can no longer be done", field="transfer"
        )
    return locked


def transfer_bridge(*, transfer: Transfer, actor: User, now: dt.datetime | None = None) -> Transfer:
    """The person on call has heard who is calling: put the caller through, and leave."""
    now = now or timezone.now()
    with system_context(reason="warm transfer"), transaction.atomic():
        locked = _open(transfer, actor=actor, states=(Transfer.State.ANNOUNCING,))
        sid = Call.objects.filter(pk=locked.call_id).values_list("telephony_sid", flat=True).first()
        try:
            _twilio("POST", f"Conferences/{locked.conference_sid}/Participants/{sid}.json", {"Hold": "false"})
            if locked.agent_call_sid:
                _twilio("DELETE", f"Conferences/{locked.conference_sid}/Participants/{locked.agent_call_sid}.json")
        except TwilioError as exc:
            raise ApplicationError(
                f"the caller could not be put through ({exc}): try again, or return", field="transfer"
            ) from None
        locked.state, locked.ended_at = Transfer.State.BRIDGED, now
        locked.save(update_fields=["state", "ended_at"])
        _push(locked)
    return locked


def transfer_return(*, transfer: Transfer, actor: User, now: dt.datetime | None = None) -> Transfer:
    """Back to the caller without putting them through (the person on call cannot take it): the
    dialled leg is removed and the caller comes off hold; the agent then takes a message."""
    now = now or timezone.now()
    with system_context(reason="warm transfer"), transaction.atomic():
        locked = _open(transfer, actor=actor)
        problems = []
        if locked.target_call_sid:
            try:
                _twilio("DELETE", f"Conferences/{locked.conference_sid}/Participants/{locked.target_call_sid}.json")
            except TwilioError as exc:
                problems.append(str(exc))
        not_back = _caller_back(locked)
        if not_back:
            raise ApplicationError(f"the caller could not be taken off hold ({not_back}): try again", field="transfer")
        locked.state, locked.ended_at = Transfer.State.RETURNED, now
        locked.failure = provider_text_scrub("; ".join(problems)) if problems else ""
        locked.save(update_fields=["state", "ended_at", "failure"])
        _push(locked)
    return locked
