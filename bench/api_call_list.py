"""The client API's call list on 100,000 calls, against the raw fetch of the same page.

    .venv/bin/python bench/api_call_list.py [--calls 100000] [--repeat 20]

One client company with N calls (default 100,000), one in ten with a voicemail. The client's admin
asks `GET /api/v1/calls/?limit=50` through the full Django stack; the database time of that request
(the page with its "has voicemail" check, and the capped count) is compared, in the same run, with
the raw fetch of the same 50 rows in plain SQL. Goal: API page queries / raw fetch <= 2.
"""

from __future__ import annotations

import argparse
import statistics
import time

from _bench_db import bench_company, bench_database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--explain", action="store_true", help="print each query on answering_call with its time")
    args = parser.parse_args()

    with bench_database():
        from django.db import connection
        from django.test import Client
        from django.utils import timezone
        from django_tenants.utils import tenant_context

        from answering.models import Call, Line

        company, people = bench_company(slug="bench", read_grants=("user.contact.name",))
        print(f"bench: creating {args.calls:,} calls, a voicemail on one in ten ...", flush=True)
        with tenant_context(company):
            line = Line.objects.create(name="Main", phone_number="+3726009000")
            model = Call.objects.create(
                line=line, telephony_sid="CAmodel", started_at=timezone.now(), caller_number="+37251234567"
            )
            columns = [
                f.column for f in Call._meta.concrete_fields if f.column not in ("id", "telephony_sid", "started_at")
            ]
            listed = ", ".join(columns)
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO answering_call (telephony_sid, started_at, {listed}) "
                    f"SELECT 'CAbulk' || g, now() - g * interval '1 minute', {listed} "
                    "FROM answering_call, generate_series(1, %s) g WHERE id = %s",
                    [args.calls - 1, model.pk],
                )
                cursor.execute(
                    "INSERT INTO answering_voicemail (call_id, recording_sid, audio, audio_bytes, "
                    "duration_seconds, transcription, transcription_purged, created_at) "
                    "SELECT id, 'RE' || id, '', 0, 0, notes, false, started_at FROM answering_call WHERE id % 10 = 0"
                )
                cursor.execute("ANALYZE")

        from portal.middleware import SESSION_SCHEMA_KEY

        client = Client(HTTP_HOST="bench.localhost")
        client.force_login(people["client"])
        session = client.session
        session[SESSION_SCHEMA_KEY] = company.schema_name  # as a real sign-in on the company's host does
        session.save()
        url = "/api/v1/calls/?limit=50"
        assert client.get(url).status_code == 200  # warm up

        timings: list[float] = []

        def wrapper(execute, sql, params, many, context):
            begin = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                if "answering_call" in sql:
                    timings.append(time.perf_counter() - begin)
                    if args.explain:
                        print(f"  {1000 * (time.perf_counter() - begin):7.2f} ms  {sql[:300]}")
                        if sql.startswith("SELECT") and "LIMIT 51" in sql:
                            with connection.cursor() as cursor:
                                cursor.execute(f"EXPLAIN ANALYZE {sql}", params)
                                print("\n".join(row[0] for row in cursor.fetchall()))

        raw = (
            "SELECT c.id, c.line_id, c.direction, c.status, c.started_at, c.answered_at, c.ended_at, "
            "c.duration_seconds, c.caller_name, c.caller_number, c.notes, c.disposition, c.agent_id, "
            "c.recording_consent, l.name FROM answering_call c JOIN answering_line l ON l.id = c.line_id "
            "ORDER BY c.started_at DESC, c.id DESC LIMIT 50"
        )
        api_db, api_total, raw_db, queries = [], [], [], 0
        for _ in range(args.repeat):
            timings.clear()
            begin = time.perf_counter()
            with connection.execute_wrapper(wrapper):
                response = client.get(url)
            api_total.append(time.perf_counter() - begin)
            assert response.status_code == 200
            assert len(response.json()["results"]) == 50
            api_db.append(sum(timings))
            queries = len(timings)
            with tenant_context(company), connection.cursor() as cursor:
                begin = time.perf_counter()
                cursor.execute(raw)
                cursor.fetchall()
                raw_db.append(time.perf_counter() - begin)

    api, base = statistics.median(api_db), statistics.median(raw_db)
    print(f"API page queries on answering_call: {queries} per request, {api * 1000:.2f} ms (median)")
    print(f"raw fetch of the same 50 rows:     {base * 1000:.2f} ms (median)")
    print(f"whole API request:                 {statistics.median(api_total) * 1000:.1f} ms (median)")
    print(f"ratio API page queries / raw fetch: {api / base:.2f}   (goal <= 2)")


if __name__ == "__main__":
    main()
