"""The answering desk's demo data: business hours, scripts, routes, callers, a fortnight of calls,
messages and voicemails (with small generated audio), for every demo company. Idempotent: a
company that has a script already is left alone."""

from __future__ import annotations

import datetime as dt
import random

from django.utils import timezone

from answering.models import BusinessHours, Call, DeliveryRoute, Line, Message, Script, Voicemail
from answering.scripts import script_version_draft, script_version_publish, support_line_configure
from answering.simulator import new_sid, tone_wav
from crm.models import Contact
from crm.services import contact_create
from gates.context import system_context
from tenants.files import encrypted_file_save
from tenants.models import User

NAME_QUESTION = {"key": "caller_name", "label": "Caller's name", "target": "message.caller_name"}
ASK_NAME = {"kind": "ask", "prompt": "May I have your name, please?", "questions": [NAME_QUESTION]}
ASK_NUMBER = {
    "kind": "ask",
    "prompt": "Which number can we call you back on?",
    "questions": [{"key": "caller_number", "label": "Call-back number", "target": "message.caller_number"}],
}
ASK_BODY = {
    "kind": "ask",
    "prompt": "How can we help?",
    "questions": [{"key": "body", "label": "Message", "target": "message.body"}],
}
# The emergency line branches: an emergency is put through to the dentist on call (a warm transfer,
# with the number to call back should it fail); any other call takes a message, as before.
ASK_REASON = {
    "id": "reason",
    "kind": "ask",
    "prompt": "Is this an emergency (pain, bleeding, swelling)?",
    "questions": [
        {
            "key": "reason",
            "label": "Reason",
            "target": "message.answer",
            "category": "user.content.private",
            "type": "choice",
            "choices": ["Emergency", "Appointment", "Other"],
        }
    ],
}
EMERGENCY_NUMBER = {
    "id": "emergency_number",
    "kind": "ask",
    "prompt": "Which number can the dentist call you back on, if we are cut off?",
    "when": {"answer": "reason", "is": "Emergency"},
    "questions": [
        {
            "key": "emergency_number",
            "label": "Call-back number",
            "target": "message.caller_number",
            "type": "phone",
            "required": True,
        }
    ],
}
TRANSFER_ONCALL = {
    "id": "transfer",
    "kind": "transfer",
    "prompt": "Tell the caller you are putting them through to the dentist on call.",
    "target": "oncall",
    "when": {"answer": "reason", "is": "Emergency"},
}
ASK_NUMBER_OTHERWISE = {**ASK_NUMBER, "when": {"not": {"answer": "reason", "is": "Emergency"}}}
EMERGENCY_SCRIPT = [ASK_REASON, ASK_NAME, EMERGENCY_NUMBER, TRANSFER_ONCALL, ASK_NUMBER_OTHERWISE, ASK_BODY]
REASONS = {
    "acme": [
        "Wants to move Thursday's check-up",
        "Lost filling, asks for the earliest slot",
        "Invoice question",
        "Asks whether the clinic takes new patients",
        "Child has a toothache since yesterday",
    ],
    "globex": [
        "Needs advice on a rental contract",
        "Asks for a call back about the court date",
        "Wants to send documents for the case",
        "Question about the invoice",
        "New matter: a contract dispute",
    ],
    "initech": [
        "Cannot log in to the portal",
        "Export to CSV fails",
        "VPN drops every few minutes",
        "Licence key question",
        "Printer queue is stuck",
    ],
}


def answering_demo(slug: str, rich: bool) -> None:
    if not rich or Script.objects.exists():
        return
    lines_demo(slug)
    _history(slug)


def lines_demo(slug: str) -> None:
    """The company's lines as the desk meets them: business hours, delivery routes and published
    scripts (acme's emergencies line branches to a warm transfer to the dentist on call)."""
    supervisor = User.objects.get(username="supervisor")
    lines = list(Line.objects.order_by("phone_number"))
    for line in lines:
        for weekday in range(5):
            BusinessHours.objects.get_or_create(line=line, weekday=weekday, opens=dt.time(8), closes=dt.time(18))
        DeliveryRoute.objects.create(line=line, channel="email", address=f"messages@{slug}.example")

    if slug == "acme":
        Line.objects.filter(pk=lines[0].pk).update(recording_policy=Line.RecordingPolicy.ASK_CONSENT)
        lines[0].refresh_from_db()
        steps = [{"kind": "disclosure", "prompt": lines[0].disclosure}, ASK_NAME, ASK_NUMBER, ASK_BODY]
        _publish(lines[0], steps, supervisor)
        _publish(lines[1], EMERGENCY_SCRIPT, supervisor)
    elif slug == "globex":
        Line.objects.filter(pk=lines[0].pk).update(after_hours=Line.AfterHours.FORWARD_ONCALL)
        _publish(lines[0], [ASK_NAME, ASK_BODY], supervisor)  # globex's DPA: no phone numbers
    else:
        support_line_configure(
            line=lines[0], remote_support_url="https://support.initech.example/join", actor=supervisor
        )


def _history(slug: str) -> None:
    """A fortnight of calls, messages and voicemails from thirty callers."""
    from faker import Faker

    fake = Faker("et_EE")
    Faker.seed(sum(map(ord, slug)))
    rng = random.Random(slug)
    agent = User.objects.get(username="agent1")
    lines = list(Line.objects.order_by("phone_number"))
    contacts = list(Contact.objects.all())
    for _ in range(30):
        number = "+3725" + "".join(str(rng.randrange(10)) for _ in range(7))
        contacts.append(
            contact_create(
                name=fake.name(), phone_number=number, email=fake.email(), address=fake.street_address(), actor=None
            )
        )
    now = timezone.now()
    audio = tone_wav(0.4)
    for n in range(300):
        line = rng.choice(lines)
        contact = rng.choice(contacts)
        started = now - dt.timedelta(minutes=rng.randrange(14 * 24 * 60))
        missed = rng.random() < 0.15
        call = Call.objects.create(
            line=line,
            telephony_sid=new_sid("CA"),
            started_at=started,
            status="missed" if missed else "completed",
            answered_at=None if missed else started + dt.timedelta(seconds=rng.randrange(3, 25)),
            ended_at=started + dt.timedelta(seconds=rng.randrange(30, 600)),
            caller_number=contact.phone_number,
            caller_name=contact.name,
            contact=contact,
            agent=None if missed else agent,
            disposition="" if missed else rng.choice(["message_taken", "info_given", "message_taken"]),
        )
        if call.disposition == "message_taken":
            Message.objects.create(
                line=line,
                call=call,
                contact=contact,
                urgency=rng.choice(["normal", "normal", "low", "urgent"]),
                caller_name=contact.name,
                body=rng.choice(REASONS[slug]),
                taken_by=agent,
                caller_number=contact.phone_number if slug == "acme" else "",
                status=rng.choice(["acknowledged", "read", "sent"]),
                ticket_reference=f"INC-{4000 + n}" if slug == "initech" else "",
            )
        elif missed and n % 3 == 0:
            said = f"Hello, {contact.name} here. {rng.choice(REASONS[slug])}."
            Voicemail.objects.create(
                call=call,
                recording_sid=new_sid("RE"),
                audio_bytes=len(audio),
                audio=encrypted_file_save(folder=f"audio/{slug}", content=audio),
                duration_seconds=rng.randrange(5, 60),
                transcription=said,
            )


def _publish(line: Line, steps: list, actor: User) -> None:
    script = Script.objects.create(line=line, name=f"{line.name} intake")
    script_version_publish(version=script_version_draft(script=script, steps=steps, actor=actor), actor=actor)


AFTER_HOURS = {
    Line.AfterHours.VOICEMAIL: "voicemail",
    Line.AfterHours.MESSAGE_ONLY: "an agent, with the message-only script",
    Line.AfterHours.FORWARD_ONCALL: "the person on call",
}


@system_context(reason="seed the demo world")
def business_hours_now(*, at: dt.datetime) -> str:
    """One line on whether this company (the connection's tenant) answers live at `at`, in its own
    zone, and where its calls go when it does not: `run_demo` prints it for each company, since a
    simulated call outside business hours reaches no agent."""
    import zoneinfo

    from django.db import connection

    zone = zoneinfo.ZoneInfo(connection.tenant.time_zone)
    local = at.astimezone(zone)
    hours = BusinessHours.objects.filter(weekday=local.weekday(), opens__lte=local.time(), closes__gt=local.time())
    when = f"{local:%a %H:%M} {zone.key}"
    if hours.exists():
        return f"in business hours now ({when}): calls go to the agents"
    after = sorted({AFTER_HOURS[line.after_hours] for line in Line.objects.all()})
    return f"outside business hours now ({when}): calls go to {' or '.join(after)}"
