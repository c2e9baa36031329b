"""A fixture of acme calls with known answers, across the night the clocks go back in Tallinn
(Sunday 25 October 2026: at 04:00 EEST, 01:00 UTC, they go back to 03:00 EET, so the local hour
03:00 happens twice: first at +03:00 from 00:00 UTC, then at +02:00 from 01:00 UTC)."""

from __future__ import annotations

import datetime as dt

import pytest
from django_tenants.utils import tenant_context

UTC = dt.UTC
BACK = dt.date(2026, 10, 25)  # the clocks go back
FORWARD = dt.date(2026, 3, 29)  # the clocks go forward: 03:00 local does not happen


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def _presence(user, rows):
    from desk.models import PresenceChange

    for state, when in rows:
        PresenceChange.objects.create(user=user, state=state, cause="test", at=at(when))


@pytest.fixture
def dst_calls(acme, agent1, agent2, settings):
    """Acme's emergencies line (target 20 s); the short-abandon threshold is 5 s.

    n  started (UTC)        local            answer after  talk  wrap  outcome
    1  10-25 00:10:00       03:10 (+03:00)   10 s          120   30    answered, agent1
    2  10-25 00:20:00       03:20 (+03:00)   30 s          90    0     answered, agent1, 1 transfer
    3  10-25 00:30:00       03:30 (+03:00)   -             -     -     hung up after 3 s (short)
    4  10-25 00:40:00       03:40 (+03:00)   -             -     -     hung up after 45 s (long)
    5  10-25 01:05:00       03:05 (+02:00)   20 s          60    45    answered, agent1
    6  10-25 01:15:00       03:15 (+02:00)   -             -     -     overflowed after 60 s
    7  10-24 21:30:00       00:30 (+03:00)   5 s           60    0     answered, agent2
    8  10-24 20:59:30       23:59:30 on 24th 40 s          100   0     answered, agent2 (the day before)

    agent1 also takes a globex call at 01:30 UTC and wraps it up for 60 s: not acme's."""
    from answering.models import Call, Line, Transfer
    from desk.models import QueuedCall

    settings.LEVELS_SHORT_ABANDON_SECONDS = 5
    rows = [
        # (n, started, wait or None, talk, seconds to hang up when unanswered, agent)
        (1, "2026-10-25 00:10:00", 10, 120, None, agent1),
        (2, "2026-10-25 00:20:00", 30, 90, None, agent1),
        (3, "2026-10-25 00:30:00", None, 0, 3, None),
        (4, "2026-10-25 00:40:00", None, 0, 45, None),
        (5, "2026-10-25 01:05:00", 20, 60, None, agent1),
        (6, "2026-10-25 01:15:00", None, 0, 60, None),
        (7, "2026-10-24 21:30:00", 5, 60, None, agent2),
        (8, "2026-10-24 20:59:30", 40, 100, None, agent2),
    ]
    calls = {}
    with tenant_context(acme):
        line = Line.objects.get(phone_number="+3726001002")
        line.answer_target_seconds = 20
        line.save(update_fields=["answer_target_seconds"])
        for n, started, wait, talk, gone, agent in rows:
            begun = at(started)
            answered = begun + dt.timedelta(seconds=wait) if wait is not None else None
            calls[n] = Call.objects.create(
                line=line,
                telephony_sid=f"CAlevels{n}".ljust(34, "0"),
                started_at=begun,
                caller_number=f"+3725559{n:04d}",
                caller_name="Level Person",
                answered_at=answered,
                ended_at=answered + dt.timedelta(seconds=talk) if answered else begun + dt.timedelta(seconds=gone),
                status="completed" if answered else "missed",
                agent=agent,
            )
        Transfer.objects.create(
            call=calls[2],
            agent=agent1,
            target_kind="oncall",
            state="bridged",
            conference_name="levels-transfer-2",
            started_at=at("2026-10-25 00:21:00"),
        )
    # Accepting ends the queued call at the very instant of the agent's "on_call" change.
    for n, took in ((1, "2026-10-25 00:10:10"), (2, "2026-10-25 00:20:30"), (5, "2026-10-25 01:05:20")):
        QueuedCall.objects.create(
            company=acme,
            line_id=line.pk,
            call_id=calls[n].pk,
            state="connected",
            enqueued_at=calls[n].started_at,
            overflow_at=calls[n].started_at + dt.timedelta(minutes=2),
            overflow="voicemail",
            offered_to=agent1,
            ended_at=at(took),
        )
    QueuedCall.objects.create(
        company=acme,
        line_id=line.pk,
        call_id=calls[6].pk,
        state="overflowed",
        enqueued_at=at("2026-10-25 01:15:00"),
        overflow_at=at("2026-10-25 01:16:00"),
        overflow="voicemail",
        ended_at=at("2026-10-25 01:16:00"),
    )
    _presence(
        agent1,
        [
            ("on_call", "2026-10-25 00:10:10"),  # takes call 1
            ("wrap_up", "2026-10-25 00:12:10"),  # call 1 ended (00:10:10 + 120 s): 30 s of wrap-up
            ("available", "2026-10-25 00:12:40"),
            ("offered", "2026-10-25 00:20:25"),
            ("on_call", "2026-10-25 00:20:30"),  # call 2, no wrap-up
            ("available", "2026-10-25 00:22:00"),
            ("on_call", "2026-10-25 01:05:20"),  # call 5
            ("wrap_up", "2026-10-25 01:06:20"),  # call 5 ended (01:05:20 + 60 s): 45 s of wrap-up
            ("available", "2026-10-25 01:07:05"),
            ("on_call", "2026-10-25 01:30:00"),  # a globex call
            ("wrap_up", "2026-10-25 01:32:00"),  # its wrap-up, 60 s, is not acme's
            ("available", "2026-10-25 01:33:00"),
        ],
    )
    return line
