"""The service-level rollup against a plain GROUP BY of the same calls, in the same run.

    .venv/bin/python bench/service_level_rollup.py [--calls 1000000] [--agents 40] [--repeat 3]

One client company (Europe/Tallinn) with N inbound calls over four lines and about a month
(one every 2.6 s), made with INSERT ... SELECT generate_series: 85% answered by one of the agents
(each with three presence rows: on a call, wrap-up, available), the rest half overflowed in the
queue and half abandoned; one in fifty with a warm transfer. The rollup (levels/rollup.py:
local hours across a DST change, the queue, voicemail, transfers and wrap-up attributed through
the presence rows) is timed over the whole range; the baseline is a plain GROUP BY of the same
calls by line and UTC hour with counts and sums of the same times. Best of --repeat runs each.
Goal: rollup / GROUP BY <= 1.5x.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time

from _bench_db import bench_company, bench_database

# The same rows the rollup reads beyond the calls, grouped as plainly: the presence changes per agent
# and hour, and the queued calls per line and hour.
SAME_ROWS_SQL = """
SELECT user_id, date_trunc('hour', at), count(*), max(at) FROM public.desk_presencechange
WHERE at >= %s AND at < %s GROUP BY 1, 2
"""
QUEUE_SQL = """
SELECT line_id, date_trunc('hour', enqueued_at), count(*), count(offered_to_id) FROM public.desk_queuedcall
WHERE company_id = %s AND enqueued_at >= %s AND enqueued_at < %s GROUP BY 1, 2
"""

BASELINE_SQL = """
SELECT line_id, date_trunc('hour', started_at) AS hour, count(*), count(answered_at),
       sum(answered_at - started_at), sum(ended_at - answered_at)
FROM answering_call WHERE direction = 'inbound' AND started_at >= %s AND started_at < %s
GROUP BY 1, 2
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--agents", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--explain", action="store_true", help="print the rollup's plan, with timings")
    args = parser.parse_args()
    first_day, spacing = dt.date(2026, 10, 1), 2.6
    with bench_database():
        from django.db import connection
        from django_tenants.utils import tenant_context

        from answering.models import Call, Line
        from levels.models import LineHourLevels
        from levels.rollup import day_range_bounds, levels_rollup
        from tenants.models import User

        company, _ = bench_company(slug="levels", read_grants=("user.contact.name",))
        company.time_zone = "Europe/Tallinn"
        company.save(update_fields=["time_zone"])
        agents = [
            User.objects.create_user(f"levels-agent{n}", password="x", provider_role="agent", is_staff=True).pk
            for n in range(args.agents)
        ]
        print(f"bench: {args.calls:,} calls, {args.agents} agents, presence rows and queue rows ...", flush=True)
        with tenant_context(company):
            lines = [Line.objects.create(name=f"Line {n}", phone_number=f"+372600700{n}") for n in range(4)]
            zone_start, _ = day_range_bounds(date_from=first_day, date_to=first_day, zone=company_zone(company))
            model = Call.objects.create(line=lines[0], telephony_sid="CAmodel", started_at=zone_start)
            fixed = ("id", "telephony_sid", "started_at", "line_id", "answered_at", "ended_at", "agent_id", "status")
            columns = [f.column for f in Call._meta.concrete_fields if f.column not in fixed]
            listed = ", ".join(columns)
            with connection.cursor() as cursor:
                cursor.execute(
                    _insert_calls_sql(listed),
                    {
                        "line0": lines[0].pk,
                        "agents": agents,
                        "n_agents": len(agents),
                        "start": zone_start,
                        "spacing": spacing,
                        "calls": args.calls,
                        "model": model.pk,
                    },
                )
                cursor.execute("DELETE FROM answering_call WHERE id = %s", [model.pk])
                print("  calls made", flush=True)
                cursor.execute(
                    """
                    INSERT INTO public.desk_presencechange (user_id, state, cause, at)
                    SELECT agent_id, x.state, 'bench', x.at FROM answering_call,
                    LATERAL (VALUES ('on_call', answered_at), ('wrap_up', ended_at),
                                    ('available', ended_at + interval '20 s')) AS x(state, at)
                    WHERE agent_id IS NOT NULL
                    """
                )
                cursor.execute(
                    """
                    INSERT INTO public.desk_queuedcall (company_id, line_id, call_id, priority, language, eligible,
                        passed_over, state, enqueued_at, overflow_at, overflow, queue_sid, call_sid, dequeue_url)
                    SELECT %s, line_id, id, 0, '', '{}', '{}', 'overflowed', started_at, ended_at, 'voicemail',
                           '', '', ''
                    FROM answering_call WHERE answered_at IS NULL AND id %% 2 = 0
                    """,
                    [company.pk],
                )
                # Accepting ends the queued call at the instant of the agent's "on_call" change.
                cursor.execute(
                    """
                    INSERT INTO public.desk_queuedcall (company_id, line_id, call_id, priority, language, eligible,
                        passed_over, state, enqueued_at, overflow_at, overflow, queue_sid, call_sid, dequeue_url,
                        offered_to_id, offered_at, ended_at)
                    SELECT %s, line_id, id, 0, '', '{}', '{}', 'connected', started_at, started_at + interval '2 min',
                           'voicemail', '', '', '', agent_id, started_at, answered_at
                    FROM answering_call WHERE agent_id IS NOT NULL
                    """,
                    [company.pk],
                )
                cursor.execute(_insert_transfers_sql())
                cursor.execute("ANALYZE")
                cursor.execute("SELECT count(*) FROM public.desk_presencechange")
                presence_rows = cursor.fetchone()[0]
            print(f"  {presence_rows:,} presence rows; timing ...", flush=True)
            days = (args.calls * spacing) // 86400 + 1
            last_day = first_day + dt.timedelta(days=int(days))
            start, end = day_range_bounds(date_from=first_day, date_to=last_day, zone=company_zone(company))
            if args.explain:
                _explain(connection, company, start, end)
            baseline, same_rows, rollup = [], [], []
            for n in range(args.repeat):
                with connection.cursor() as cursor:
                    began = time.perf_counter()
                    cursor.execute(BASELINE_SQL, [start, end])
                    groups = len(cursor.fetchall())
                    baseline.append(time.perf_counter() - began)
                    cursor.execute(SAME_ROWS_SQL, [start, end + dt.timedelta(days=1)])
                    cursor.fetchall()
                    cursor.execute(QUEUE_SQL, [company.pk, start, end + dt.timedelta(days=1)])
                    cursor.fetchall()
                    same_rows.append(time.perf_counter() - began)
                began = time.perf_counter()
                written = levels_rollup(date_from=first_day, date_to=last_day)
                rollup.append(time.perf_counter() - began)
                print(
                    f"  run {n + 1}: GROUP BY of the calls {baseline[-1]:.2f} s, of calls, presence and queue "
                    f"{same_rows[-1]:.2f} s, rollup {rollup[-1]:.2f} s",
                    flush=True,
                )
            total = LineHourLevels.objects.order_by().values_list("offered", flat=True)
            offered = sum(total)
    assert offered == args.calls, (offered, args.calls)
    load = os.getloadavg()
    best_base, best_rollup = min(baseline), min(rollup)
    print(f"GROUP BY: {groups:,} groups of {args.calls:,} calls in {best_base:.2f} s (best of {args.repeat})")
    print(f"rollup:   {written:,} line-hours of {args.calls:,} calls in {best_rollup:.2f} s (best of {args.repeat})")
    print(f"GROUP BY of calls, presence and queue rows: {min(same_rows):.2f} s")
    print(f"ratio rollup / GROUP BY of the calls: {best_rollup / best_base:.2f}x   (goal <= 1.5)")
    print(f"ratio rollup / GROUP BY of every row it reads: {best_rollup / min(same_rows):.2f}x")
    print(f"load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


def _explain(connection, company, start, end) -> None:
    from django.conf import settings
    from django.db import transaction

    from levels.rollup import ROLLUP_SQL, rollup_params

    params = rollup_params(company_id=company.pk, zone_name=company.time_zone, start=start, end=end)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = %s", [settings.LEVELS_ROLLUP_WORK_MEM])
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + ROLLUP_SQL, params)
        print("\n".join(row[0] for row in cursor.fetchall()))
        transaction.set_rollback(True)


def company_zone(company):
    import zoneinfo

    return zoneinfo.ZoneInfo(company.time_zone)


def _insert_calls_sql(listed: str) -> str:
    # Call g starts at g * spacing; it is answered unless g % 20 is 0, 1 or 2, after g % 41 s, and
    # talks 60 + g % 240 s, by agent g % agents; the model call gives every other column.
    return f"""
    INSERT INTO answering_call (telephony_sid, started_at, line_id, answered_at, ended_at, agent_id, status, {listed})
    SELECT 'CAb' || g, s, %(line0)s + g %% 4,
           CASE WHEN g %% 20 > 2 THEN s + (g %% 41) * interval '1 s' END,
           s + (CASE WHEN g %% 20 > 2 THEN g %% 41 + 60 + g %% 240 ELSE g %% 90 END) * interval '1 s',
           CASE WHEN g %% 20 > 2 THEN (%(agents)s::int[])[1 + g %% %(n_agents)s] END,
           CASE WHEN g %% 20 > 2 THEN 'completed' ELSE 'missed' END, {listed}
    FROM (SELECT g, %(start)s::timestamptz + g * %(spacing)s * interval '1 s' AS s
          FROM generate_series(1, %(calls)s) g) gs,
         (SELECT {listed} FROM answering_call WHERE id = %(model)s) m
    """


def _insert_transfers_sql() -> str:
    return """
    INSERT INTO answering_transfer (call_id, agent_id, target_kind, target_number, state,
        conference_name, conference_sid, agent_call_sid, target_call_sid, failure, started_at)
    SELECT id, agent_id, 'oncall', caller_number, 'bridged', 'bench-' || id, '', '', '', '',
           answered_at + interval '30 s'
    FROM answering_call WHERE agent_id IS NOT NULL AND id % 50 = 0
    """


if __name__ == "__main__":
    main()
