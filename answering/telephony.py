"""Twilio-compatible telephony: signature checks, TwiML for inbound calls, and the callbacks that
update calls and store voicemail and recordings. Every handler is idempotent: ids are unique, so a
replayed callback changes nothing."""

from __future__ import annotations

import base64
import datetime as dt
import logging
import urllib.error
import urllib.request
from collections.abc import Mapping

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse

from answering.models import (
    Call,
    DeliveryAttempt,
    Line,
    Message,
    Recording,
    RecordingConsent,
    Transfer,
    Voicemail,
)
from crm.blind_index import pseudonym
from crm.selectors import contact_id_probe
from gates.outbound import outbound_check
from tenants.errors import ApplicationError
from tenants.files import company_folder, encrypted_file_delete, encrypted_file_save
from tenants.integrations import TWILIO_VOICE

logger = logging.getLogger(__name__)
NOT_IN_SERVICE = "Sorry, this number is not in service. Goodbye."
NO_VOICEMAIL = (
    "Sorry, we cannot take a message on this line at the moment. Please call again in opening hours. Goodbye."
)

# What the rows that keep these parameters can hold: Call.telephony_sid, Voicemail and
# Recording.recording_sid and DeliveryAttempt.provider_id are 64 characters.
SID_PARAMS = ("CallSid", "RecordingSid", "MessageSid", "AccountSid", "TranscriptionSid", "ParentCallSid")
SID_MAX_LENGTH = 64
# Numbers and client identifiers ("client:alice"); the lines' own numbers are at most 20.
NUMBER_PARAMS = ("To", "From")
NUMBER_MAX_LENGTH = 64
# Whole seconds, stored in PositiveIntegerFields.
DURATION_PARAMS = ("RecordingDuration", "CallDuration")
DURATION_MAX = 2_147_483_647


def webhook_params_check(params: Mapping[str, str]) -> None:
    """Refuse a webhook whose parameters no row could hold, before anything is read, fetched or
    written: a NUL byte anywhere (PostgreSQL's text cannot store one), an id or a number too long,
    a duration that is not a whole number of seconds. The error names the parameter and the rule,
    never the value (a number is personal data)."""
    for name, value in params.items():
        if "\x00" in name or "\x00" in value:
            shown = name.replace("\x00", "\\x00")[:64]
            raise ApplicationError(f"the parameter {shown} contains a NUL byte", field=shown)
    for names, limit in ((SID_PARAMS, SID_MAX_LENGTH), (NUMBER_PARAMS, NUMBER_MAX_LENGTH)):
        for name in names:
            if len(params.get(name, "")) > limit:
                raise ApplicationError(f"{name} is longer than {limit} characters", field=name)
    for name in DURATION_PARAMS:
        value = params.get(name, "")
        if value and not (value.isascii() and value.isdigit() and int(value) <= DURATION_MAX):
            raise ApplicationError(f"{name} must be a whole number of seconds, 0 or more", field=name)


def signature_valid(*, url: str, params: dict, signature: str) -> bool:
    if not settings.TWILIO_AUTH_TOKEN or not signature:
        return False
    return RequestValidator(settings.TWILIO_AUTH_TOKEN).validate(url, params, signature)


# The line a call is for, whether its business hours are open now, the caller's contact by blind
# index, and the call's row, in one statement: a number that is no line writes nothing, and a
# replayed CallSid writes nothing either (ON CONFLICT), so `call_id` is then NULL.
LINE_AND_CALL = """
    WITH line AS (
        SELECT l.*, EXISTS (
            SELECT 1 FROM answering_businesshours h
            WHERE h.line_id = l.id AND h.weekday = %s AND h.opens <= %s AND h.closes > %s
        ) AS is_open
        FROM answering_line l WHERE l.phone_number = %s
    ), written AS (
        INSERT INTO answering_call ({columns}) SELECT {values} FROM line
        ON CONFLICT (telephony_sid) DO NOTHING RETURNING id, contact_id
    )
    SELECT line.*, written.id AS call_id, written.contact_id AS call_contact_id
    FROM line LEFT JOIN written ON TRUE
"""


def _line_and_call(*, params: dict, now: dt.datetime) -> tuple[Line | None, Call | None]:
    """The line the call is for (with `is_open`: its business hours, now, in the company's zone)
    and the call's row, written once on the provider's CallSid, in one round trip: this runs on
    every inbound call. Raw SQL on purpose: compiling it through the ORM cost more than the
    database did. Only a replayed webhook reads the row the first delivery wrote."""
    import zoneinfo

    local = now.astimezone(zoneinfo.ZoneInfo(connection.tenant.time_zone))
    moment = local.time()
    caller = params.get("From", "")
    call = Call(
        telephony_sid=params["CallSid"],
        started_at=now,
        caller_number=caller,
        status=Call.Status.RINGING,
        direction=Call.Direction.INBOUND,
        caller_pseudonym=pseudonym(caller, schema=connection.schema_name),
    )
    probe_sql, probe_params = contact_id_probe(number=caller)
    fields = [f for f in Call._meta.concrete_fields if not f.primary_key]
    values, values_params = [], []
    for field in fields:
        if field.attname == "line_id":
            values.append("line.id")
        elif field.attname == "contact_id":
            values.append(probe_sql)
            values_params.extend(probe_params)
        else:
            values.append("%s")
            values_params.append(field.get_db_prep_save(field.pre_save(call, add=True), connection))
    quote = connection.ops.quote_name
    sql = LINE_AND_CALL.format(columns=", ".join(quote(f.column) for f in fields), values=", ".join(values))
    line_params = [local.weekday(), moment, moment, params.get("To", "")]
    line = next(iter(Line.objects.raw(sql, [*line_params, *values_params])), None)
    if line is None:
        return None, None
    call.line = line
    call.pk, call.contact_id = line.call_id, line.call_contact_id
    if call.pk is None:  # a replay: the row is the first delivery's
        call.pk, call.contact_id = Call.objects.filter(telephony_sid=call.telephony_sid).values_list(
            "pk", "contact_id"
        )[0]
    call._state.adding = False
    return line, call


def inbound_voice(
    *, params: dict, callback_base: str, now: dt.datetime | None = None, as_if_in_hours: bool = False
) -> str:
    """TwiML for an inbound call: greeting, disclosure, then agents (in hours) or the after-hours
    rule. A number that is no line gets a polite message, and nothing is stored. `as_if_in_hours`
    (the demo's simulated calls only) answers as if the line's business hours were open."""
    now = now or timezone.now()
    response = VoiceResponse()
    line, call = _line_and_call(params=params, now=now) if params.get("CallSid") else (None, None)
    if line is None:
        response.say(NOT_IN_SERVICE)
        response.hangup()
        return str(response)

    if line.greeting:
        response.say(line.greeting)
    is_open = line.is_open or as_if_in_hours
    if is_open or line.after_hours == Line.AfterHours.MESSAGE_ONLY:
        if line.recording_policy == Line.RecordingPolicy.ASK_CONSENT:
            gather = response.gather(num_digits=1, action=f"{callback_base}consent/", method="POST", timeout=6)
            gather.say(f"{line.disclosure} Press 1 to allow the recording, or 2 to continue without it.")
            response.redirect(f"{callback_base}consent/?Digits=2", method="POST")
            return str(response)
        if line.recording_policy == Line.RecordingPolicy.ANNOUNCE:
            response.say(line.disclosure)
            _consent_set(call, RecordingConsent.ANNOUNCED)
        _enqueue(response, call=call, line=line, callback_base=callback_base, now=now)
        return str(response)
    return _unanswered(response, call=call, line=line, rule=line.after_hours, callback_base=callback_base, now=now)


def _enqueue(response: VoiceResponse, *, call: Call, line: Line, callback_base: str, now: dt.datetime) -> None:
    """Twilio's <Enqueue>: the caller waits, hearing the hold message and their place (the wait
    URL, polled), until an agent takes the call or the line's maximum wait sends it on (the
    action URL). The call enters the queue across companies, by ids only."""
    from answering.services.queue import call_queue_enter

    call_queue_enter(call_id=call.pk, line=line, now=now)
    response.enqueue(
        f"agents-{connection.schema_name}",
        wait_url=f"{callback_base}queue/wait/",
        wait_url_method="POST",
        action=f"{callback_base}queue/result/",
        method="POST",
    )


def queue_wait(*, params: dict, callback_base: str) -> str:
    """The hold loop's TwiML (Twilio's waitUrl, requested again each time it ends): the line's
    hold message and the caller's place, or <Leave> once an agent took the call or it overflowed.
    Its first request also notes Twilio's QueueSid, so that accepting dequeues the caller at once,
    to the Enqueue's action URL (desk/dequeue.py); this <Leave> stays the fallback."""
    from desk.models import QueuedCall
    from desk.selectors import queue_position, queued_for_call
    from desk.services import queue_member_note

    response = VoiceResponse()
    call = Call.objects.filter(telephony_sid=params.get("CallSid", "")).select_related("line").first()
    queued = queued_for_call(company=connection.tenant, call_id=call.pk) if call else None
    if queued is None or queued.state not in (QueuedCall.State.WAITING, QueuedCall.State.OFFERED):
        response.leave()
        return str(response)
    queue_member_note(
        queued=queued,
        queue_sid=params.get("QueueSid", ""),
        call_sid=call.telephony_sid,
        dequeue_url=f"{callback_base}queue/result/",
    )
    position = queue_position(queued=queued)
    response.say(f"{call.line.queue_hold_message} You are number {position} in the queue.")
    response.pause(length=5)
    return str(response)


def queue_result(*, params: dict, callback_base: str, now: dt.datetime | None = None) -> str:
    """Twilio's <Enqueue> action: the caller left the queue. Taken by an agent: dial the agent's
    softphone (Twilio Client identity `agent-<id>`). Past the maximum wait: the line's overflow.
    Hung up: the call leaves the queue."""
    from desk.models import QueuedCall
    from desk.selectors import queued_for_call
    from desk.services import queue_leave

    now = now or timezone.now()
    response = VoiceResponse()
    call = Call.objects.filter(telephony_sid=params.get("CallSid", "")).select_related("line").first()
    if call is None:
        response.hangup()
        return str(response)
    if params.get("QueueResult") in ("hangup", "error", "system-error"):
        queue_leave(company=connection.tenant, call_id=call.pk, now=now)
        return str(response)
    queued = queued_for_call(company=connection.tenant, call_id=call.pk)
    if queued is not None and queued.state == QueuedCall.State.CONNECTED:
        response.dial().client(f"agent-{queued.offered_to_id}")
        return str(response)
    rule = {
        QueuedCall.Overflow.FORWARD_ONCALL: Line.AfterHours.FORWARD_ONCALL,
    }.get(queued.overflow if queued else "", Line.AfterHours.VOICEMAIL)
    return _unanswered(response, call=call, line=call.line, rule=rule, callback_base=callback_base, now=now)


def _unanswered(
    response: VoiceResponse, *, call: Call, line: Line, rule: str, callback_base: str, now: dt.datetime
) -> str:
    """No agent takes the call (after hours, or past the queue's maximum wait): the person on call
    if `rule` says so and the DPA lets their number go to Twilio, else voicemail."""
    if rule == Line.AfterHours.FORWARD_ONCALL:
        from scheduling.models import StaffMember
        from scheduling.selectors import oncall_for_line

        for person in oncall_for_line(line=line, at=now):
            # Forwarding hands Twilio the number of the person on call: only if the DPA lets it.
            if person.phone_number and _voice_allowed(
                categories=["user.contact.phone_number"], model=StaffMember, pk=person.pk, fields=["phone_number"]
            ):
                response.dial(person.phone_number, timeout=25)
                return str(response)
    # Recording and transcribing a voicemail has Twilio keep the caller's voice and words; if the
    # DPA does not let it, the caller is told, and nothing is recorded.
    if not _voice_allowed(
        categories=["user.biometrics.voice", "user.content.private"], model=Call, pk=call.pk, fields=[]
    ):
        response.say(NO_VOICEMAIL)
        response.hangup()
        return str(response)
    response.say(f"{line.disclosure} Please leave a message after the tone.")
    response.record(
        max_length=line.voicemail_max_seconds,
        play_beep=True,
        recording_status_callback=f"{callback_base}recording/",
        recording_status_callback_method="POST",
        transcribe=True,
        transcribe_callback=f"{callback_base}transcription/",
    )
    response.say("We did not receive a message. Goodbye.")
    return str(response)


def _voice_allowed(*, categories: list[str], model, pk: int, fields: list[str]) -> bool:
    return outbound_check(
        integration=TWILIO_VOICE, categories=categories, model=model, object_ids=[pk], fields=fields, path="voice"
    ).allowed


def refused_twiml(reason: str) -> str:
    """TwiML for a webhook refused as malformed: the reason, for the provider's debugger, then hang up."""
    response = VoiceResponse()
    response.say(f"This request was refused: {reason}.")
    response.hangup()
    return str(response)


def consent_gathered(*, params: dict, callback_base: str) -> str:
    response = VoiceResponse()
    call = Call.objects.filter(telephony_sid=params.get("CallSid", "")).select_related("line").first()
    if call is None:
        response.say(NOT_IN_SERVICE)
        response.hangup()
        return str(response)
    given = params.get("Digits") == "1"
    _consent_set(call, RecordingConsent.GIVEN if given else RecordingConsent.REFUSED)
    response.say("Thank you. Connecting you now.")
    _enqueue(response, call=call, line=call.line, callback_base=callback_base, now=timezone.now())
    return str(response)


def call_status(*, params: dict, now: dt.datetime | None = None) -> None:
    """Status callback: the call's status, end time and duration. Unknown calls are ignored."""
    now = now or timezone.now()
    mapping = {
        "in-progress": Call.Status.IN_PROGRESS,
        "completed": Call.Status.COMPLETED,
        "busy": Call.Status.MISSED,
        "no-answer": Call.Status.MISSED,
        "failed": Call.Status.MISSED,
        "canceled": Call.Status.MISSED,
        "ringing": Call.Status.RINGING,
    }
    status = mapping.get(params.get("CallStatus", ""))
    if status is None:
        return
    with transaction.atomic():
        call = Call.objects.select_for_update().filter(telephony_sid=params.get("CallSid", "")).first()
        if call is None:
            return
        call.status = status
        if status == Call.Status.IN_PROGRESS and call.answered_at is None:
            call.answered_at = now
        if status in (Call.Status.COMPLETED, Call.Status.MISSED) and call.ended_at is None:
            call.ended_at = now
            duration = params.get("CallDuration", "")
            call.duration_seconds = int(duration) if duration.isdigit() else None
        call.save(update_fields=["status", "answered_at", "ended_at", "duration_seconds"])
        if status in (Call.Status.COMPLETED, Call.Status.MISSED):
            # A caller who hangs up while being transferred ends the transfer: the agent's panel says so.
            Transfer.objects.filter(call=call, state__in=Transfer.OPEN_STATES).update(
                state=Transfer.State.FAILED, failure="the caller hung up", ended_at=now
            )


def recording_stored(*, params: dict, fetch=None) -> Voicemail | Recording | None:
    """Recording-status callback: fetch the audio, encrypt it, store it. A replay is a no-op."""
    sid = params.get("RecordingSid", "")
    if not sid or params.get("RecordingStatus", "completed") != "completed":
        return None
    if Voicemail.objects.filter(recording_sid=sid).exists() or Recording.objects.filter(recording_sid=sid).exists():
        return None
    call = Call.objects.filter(telephony_sid=params.get("CallSid", "")).select_related("line").first()
    if call is None:
        return None
    duration = int(params.get("RecordingDuration", "") or 0)  # checked by webhook_params_check
    audio = (fetch or recording_fetch)(params.get("RecordingUrl", ""))
    name = encrypted_file_save(folder=company_folder("audio", connection.schema_name), content=audio)
    try:
        with transaction.atomic():
            if call.recording_consent in (RecordingConsent.ANNOUNCED, RecordingConsent.GIVEN):
                return Recording.objects.create(
                    call=call,
                    recording_sid=sid,
                    audio=name,
                    audio_bytes=len(audio),
                    duration_seconds=duration,
                    consent_evidence=call.get_recording_consent_display(),
                )
            return Voicemail.objects.create(
                call=call, recording_sid=sid, audio=name, audio_bytes=len(audio), duration_seconds=duration
            )
    except IntegrityError:
        encrypted_file_delete(name)  # a concurrent replay won: keep one copy
        return None
    except BaseException:
        encrypted_file_delete(name)  # no row holds it: leave no orphan file
        raise


def transcription_stored(*, params: dict) -> None:
    if params.get("TranscriptionStatus", "completed") != "completed":
        return
    with transaction.atomic():
        voicemail = Voicemail.objects.select_for_update().filter(recording_sid=params.get("RecordingSid", "")).first()
        if voicemail is None or voicemail.transcription:
            return  # unknown, or a replay: the first transcription stands
        voicemail.transcription = params.get("TranscriptionText", "")[:20000]
        voicemail.save(update_fields=["transcription"])


def recording_fetch(url: str) -> bytes:
    """Fetch recording media from the telephony provider (Twilio: the RecordingUrl, as WAV), with
    the account's basic auth. Oversized audio is refused before anything is stored."""
    if not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise ApplicationError("the recording URL must be https", field="RecordingUrl")
    credentials = base64.b64encode(f"{settings.TWILIO_ACCOUNT_SID}:{settings.TWILIO_AUTH_TOKEN}".encode()).decode()
    request = urllib.request.Request(
        url if url.endswith(".wav") else f"{url}.wav", headers={"Authorization": f"Basic {credentials}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            data = response.read(settings.AUDIO_MAX_BYTES + 1)
    except (urllib.error.URLError, TimeoutError) as exc:
        raise ApplicationError(f"the recording could not be fetched: {exc}", field="RecordingUrl") from None
    if len(data) > settings.AUDIO_MAX_BYTES:
        raise ApplicationError(f"the recording is larger than {settings.AUDIO_MAX_BYTES:,} bytes", field="RecordingUrl")
    return data


def _consent_set(call: Call, consent: str) -> None:
    Call.objects.filter(telephony_sid=call.telephony_sid).update(recording_consent=consent)
    call.recording_consent = consent


def sms_status(*, params: dict) -> None:
    """Twilio's message status callback for a delivery SMS: a delivered SMS moves its message on."""
    from answering.services.messages import message_mark

    if params.get("MessageStatus") != "delivered":
        return
    attempt = DeliveryAttempt.objects.select_related("message").filter(provider_id=params.get("MessageSid", "")).first()
    if attempt is not None and attempt.route_id is not None:
        message_mark(message=attempt.message, status=Message.Status.DELIVERED, actor=None)
