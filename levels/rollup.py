"""The service-level rollup: one SQL statement per company and date range, over ids and times only.

It reads the calls' times, status and agent id, the line's target, the queue's outcome
(public desk_queuedcall: overflowed or not), whether a voicemail was left, the number of transfers,
and the agents' presence changes (for wrap-up). It never reads a number, a name, notes or a caller
pseudonym, and writes nothing but ids, counts and sums of seconds (levels.models.LineHourLevels).

What each figure means is in docs/service-levels.md; in short, for the inbound calls that arrived
in an hour (`started_at`, in the company's zone):

- offered: every such call;
- answered: those with an `answered_at`; wait = answered_at - started_at;
- answered_in_target: answered with wait <= the line's `answer_target_seconds`;
- overflowed: not answered, and the queue sent it on (QueuedCall state "overflowed");
- abandoned: not answered, ended, not overflowed and no voicemail left; short if the caller hung
  up within LEVELS_SHORT_ABANDON_SECONDS of arriving (ended_at - started_at < threshold), long
  otherwise;
- handled: answered and ended; talk = ended_at - answered_at;
- wrap-up: the agent's time in the "wrap_up" presence state after they took the call from the
  queue and before they next took one, counted on that call (found through the queued call, which
  accepting ends at the very instant of the agent's "on_call" change);
- transfers: the call's warm transfers (answering.Transfer rows), whatever their outcome.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.db import connection, transaction

from gates.context import require
from levels.models import LineHourLevels

# Presence rows and transfers of a call can come after the day it arrived on; a call is not
# expected to last (or its wrap-up to follow it) by more than this.
TAIL = dt.timedelta(days=1)

ROLLUP_SQL = """
WITH c AS (
    SELECT c.id, c.line_id, c.started_at, c.answered_at, c.ended_at, c.agent_id,
           c.started_at - ((c.started_at AT TIME ZONE %(zone)s)
                           - date_trunc('hour', c.started_at AT TIME ZONE %(zone)s)) AS hour_start
    FROM answering_call c
    WHERE c.direction = 'inbound' AND c.started_at >= %(start)s AND c.started_at < %(end)s
),
takes AS (
    -- Each presence row of the agents who took this company's calls, with when it ended and when
    -- the agent last took a call (their last "on_call" change) at or before it.
    SELECT p.user_id, p.state, p.at, lead(p.at) OVER w AS until,
           max(p.at) FILTER (WHERE p.state = 'on_call') OVER w AS took_at
    FROM public.desk_presencechange p
    WHERE p.at >= %(start)s AND p.at < %(tail)s
      AND p.user_id IN (SELECT q.offered_to_id FROM public.desk_queuedcall q
                        WHERE q.company_id = %(company)s AND q.state = 'connected'
                          AND q.ended_at >= %(start)s AND q.ended_at < %(tail)s)
    -- Partitioned by an expression, so PostgreSQL reads the rows in one sequential scan and sorts
    -- them, rather than walk the (user, at) index, whose heap reads are random: 9 s against a few
    -- for 2.5 million rows (docs/performance.md).
    WINDOW w AS (PARTITION BY p.user_id + 0 ORDER BY p.at)
),
wrap AS (
    -- A wrap-up stretch belongs to the call the agent last took: accepting writes the queued
    -- call's end and the agent's "on_call" change at the same instant (desk.services.offer_accept).
    SELECT q.call_id, sum(extract(epoch FROM t.until - t.at))::float AS seconds
    FROM takes t
    JOIN public.desk_queuedcall q ON q.offered_to_id = t.user_id AND q.ended_at = t.took_at
         AND q.company_id = %(company)s AND q.state = 'connected'
    WHERE t.state = 'wrap_up' AND t.until IS NOT NULL
    GROUP BY q.call_id
),
transfers AS (
    SELECT t.call_id, count(*) AS n FROM answering_transfer t
    WHERE t.started_at >= %(start)s AND t.started_at < %(tail)s GROUP BY t.call_id
),
overflowed AS (
    SELECT q.call_id FROM public.desk_queuedcall q
    WHERE q.company_id = %(company)s AND q.state = 'overflowed'
      AND q.enqueued_at >= %(start)s AND q.enqueued_at < %(tail)s
),
counted AS (
    SELECT c.line_id, c.hour_start,
           count(*) AS offered,
           count(c.answered_at) AS answered,
           count(*) FILTER (WHERE c.answered_at - c.started_at <= make_interval(secs => l.answer_target_seconds))
               AS answered_in_target,
           count(*) FILTER (WHERE c.answered_at IS NULL AND c.ended_at IS NOT NULL AND o.call_id IS NULL
                            AND v.id IS NULL AND c.ended_at - c.started_at < %(short)s) AS abandoned_short,
           count(*) FILTER (WHERE c.answered_at IS NULL AND c.ended_at IS NOT NULL AND o.call_id IS NULL
                            AND v.id IS NULL AND c.ended_at - c.started_at >= %(short)s) AS abandoned_long,
           count(*) FILTER (WHERE c.answered_at IS NULL AND o.call_id IS NOT NULL) AS overflowed,
           coalesce(sum(t.n), 0) AS transfers,
           count(*) FILTER (WHERE c.answered_at IS NOT NULL AND c.ended_at IS NOT NULL) AS handled,
           coalesce(extract(epoch FROM sum(c.answered_at - c.started_at)), 0)::float AS wait_seconds,
           coalesce(extract(epoch FROM sum(c.ended_at - c.answered_at)), 0)::float AS talk_seconds,
           coalesce(sum(w.seconds) FILTER (WHERE c.answered_at IS NOT NULL AND c.ended_at IS NOT NULL), 0)::float
               AS wrap_seconds,
           max(l.answer_target_seconds) AS target_seconds
    FROM c
    JOIN answering_line l ON l.id = c.line_id
    LEFT JOIN overflowed o ON o.call_id = c.id
    LEFT JOIN answering_voicemail v ON v.call_id = c.id AND c.answered_at IS NULL
    LEFT JOIN transfers t ON t.call_id = c.id
    LEFT JOIN wrap w ON w.call_id = c.id
    GROUP BY c.line_id, c.hour_start
)
INSERT INTO levels_linehourlevels (
    line_id, hour_start, day, hour, utc_offset_minutes, offered, answered, answered_in_target,
    abandoned_short, abandoned_long, overflowed, transfers, handled, wait_seconds, talk_seconds,
    wrap_seconds, target_seconds, computed_at)
SELECT line_id, hour_start, (hour_start AT TIME ZONE %(zone)s)::date,
       extract(hour FROM hour_start AT TIME ZONE %(zone)s)::int,
       (extract(epoch FROM (hour_start AT TIME ZONE %(zone)s) - (hour_start AT TIME ZONE 'UTC')) / 60)::int,
       offered, answered, answered_in_target, abandoned_short, abandoned_long, overflowed, transfers,
       handled, wait_seconds, talk_seconds, wrap_seconds, target_seconds, now()
FROM counted
"""


def day_range_bounds(
    *, date_from: dt.date, date_to: dt.date, zone: zoneinfo.ZoneInfo
) -> tuple[dt.datetime, dt.datetime]:
    """The first instant of `date_from` and the first instant after `date_to`, in `zone`."""
    start = dt.datetime.combine(date_from, dt.time(0), tzinfo=zone)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    return start, end


def rollup_params(*, company_id: int, zone_name: str, start: dt.datetime, end: dt.datetime) -> dict:
    """The rollup statement's parameters for the local days from `start` to `end`."""
    return {
        "zone": zone_name,
        "start": start,
        "end": end,
        "tail": end + TAIL,
        "company": company_id,
        "short": dt.timedelta(seconds=settings.LEVELS_SHORT_ABANDON_SECONDS),
    }


def levels_rollup(*, date_from: dt.date, date_to: dt.date, progress: Callable[[str], None] | None = None) -> int:
    """Recompute the current company's service levels for the local days `date_from` to `date_to`
    (inclusive): the hours in that range are replaced in one transaction. Returns the rows written.

    Runs only in a named context (the beat task, the command): it reads every line's calls."""
    require(LineHourLevels)
    if date_from > date_to:
        raise ValueError("date_from is after date_to")
    tenant = connection.tenant
    zone_name = getattr(tenant, "time_zone", "UTC") or "UTC"
    zone = zoneinfo.ZoneInfo(zone_name)
    written = 0
    day = date_from
    # A month at a time, so a long recomputation shows progress and holds no lock for long.
    while day <= date_to:
        last = min(date_to, day + dt.timedelta(days=30))
        start, end = day_range_bounds(date_from=day, date_to=last, zone=zone)
        params = rollup_params(company_id=tenant.pk, zone_name=zone_name, start=start, end=end)
        with transaction.atomic(), connection.cursor() as cursor:
            # The wrap-up pass sorts the agents' presence rows and hashes the queue's: in memory,
            # not in temporary files (docs/performance.md), for this transaction only.
            cursor.execute("SET LOCAL work_mem = %s", [settings.LEVELS_ROLLUP_WORK_MEM])
            cursor.execute(
                "DELETE FROM levels_linehourlevels WHERE hour_start >= %(start)s AND hour_start < %(end)s", params
            )
            cursor.execute(ROLLUP_SQL, params)
            written += cursor.rowcount
        if progress:
            progress(f"  {day.isoformat()} to {last.isoformat()}: {cursor.rowcount} line-hours")
        day = last + dt.timedelta(days=1)
    return written


def levels_rollup_recent(*, now: dt.datetime | None = None) -> int:
    """The beat job: yesterday and today so far, in the company's zone (calls that end after an hour
    closes, and late wrap-ups, are counted on the next pass)."""
    from django.utils import timezone

    zone = zoneinfo.ZoneInfo(getattr(connection.tenant, "time_zone", "UTC") or "UTC")
    today = (now or timezone.now()).astimezone(zone).date()
    return levels_rollup(date_from=today - dt.timedelta(days=1), date_to=today)
