"""The retention purge against deleting the same kind of rows through the ORM, in the same run.

    .venv/bin/python bench/retention_purge.py [--calls 1000000] [--messages 200000] [--files 2000]
        [--orm-rows 5000]

One client company with N expired calls, M expired messages and F voicemails with encrypted audio
files. The purge (set-based, in batches, one change-log entry per run) is timed over all of them;
the baseline deletes --orm-rows calls one by one through the ORM, with auditlog's signals writing
an entry per row, as a naive purge would. Goals: >= 150,000 rows/s, and >= 20x the ORM's rate.
It then prints how many of the purge's updates were HOT (no new index entries), the tables' sizes,
and the time of a second run that finds nothing left (the price of walking the primary key: each
run reads every row once).
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

from _bench_db import bench_company, bench_database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--files", type=int, default=2_000)
    parser.add_argument("--orm-rows", type=int, default=5_000)
    parser.add_argument("--batch", type=int, default=50_000, help="rows per purge batch (one transaction each)")
    args = parser.parse_args()

    with bench_database():
        from django.db import connection
        from django.utils import timezone
        from django_tenants.utils import tenant_context

        from answering.models import Call, Line, Message, Voicemail
        from answering.simulator import tone_wav
        from audit.retention import retention_purge
        from tenants.files import encrypted_file_save

        company, _ = bench_company(
            slug="purge", read_grants=("user.contact", "user.content.private", "user.biometrics.voice")
        )

        old = timezone.now() - dt.timedelta(days=90)
        total_calls = args.calls + args.orm_rows
        print(
            f"bench: {total_calls:,} calls, {args.messages:,} messages, {args.files:,} voicemail files ...", flush=True
        )
        with tenant_context(company):
            line = Line.objects.create(name="Main", phone_number="+3726006001")
            batch, made = [], 0
            for i in range(total_calls):
                number = f"+3725{i % 10**7:07d}"
                batch.append(
                    Call(
                        line=line,
                        telephony_sid=f"CA{i:032d}",
                        started_at=old,
                        caller_number=number,
                        caller_name=f"Caller {i}",
                        notes="Old",
                        caller_pseudonym=f"{i:064x}",
                    )
                )
                if len(batch) == 10_000:
                    made += len(Call.objects.bulk_create(batch))
                    batch.clear()
                    if made % 200_000 == 0:
                        print(f"  {made:,} calls", flush=True)
            Call.objects.bulk_create(batch)
            first = Call.objects.order_by("pk").values_list("pk", flat=True).first()
            messages = [
                Message(line=line, call_id=first + i, body="Old message body", caller_name="Caller")
                for i in range(args.messages)
            ]
            Message.objects.bulk_create(messages, batch_size=10_000)
            Message.objects.update(created_at=old)
            audio = tone_wav(0.2)
            voicemails = [
                Voicemail(
                    call_id=first + i,
                    recording_sid=f"RE{i:032d}",
                    audio_bytes=len(audio),
                    audio=encrypted_file_save(folder="audio/purge", content=audio),
                )
                for i in range(args.files)
            ]
            Voicemail.objects.bulk_create(voicemails, batch_size=5_000)
            Voicemail.objects.update(created_at=old)
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")

            # The baseline: the ORM, one row at a time, auditlog writing an entry per row.
            victims = list(Call.objects.order_by("-pk")[: args.orm_rows])
            start = time.perf_counter()
            for call in victims:
                call.delete()
            orm_rate = args.orm_rows / (time.perf_counter() - start)

            before = _table_stats(connection)
            start = time.perf_counter()
            run = retention_purge(batch=args.batch)
            seconds = time.perf_counter() - start
            purged = sum(run.report["purged"].values())
            after = _table_stats(connection)

            start = time.perf_counter()
            again = retention_purge(batch=args.batch)
            idle_seconds = time.perf_counter() - start
            assert sum(again.report["purged"].values()) == 0

    rate = purged / seconds
    print(f"purge: {purged:,} rows in {seconds:.1f} s = {rate:,.0f} rows/s   (goal >= 150,000)")
    print(f"  by kind: {run.report['purged']}")
    for table, (updated, hot, size, fillfactor) in after.items():
        updated, hot = updated - before[table][0], hot - before[table][1]
        share = f"{hot / updated:.0%}" if updated else "-"
        print(f"  {table}: {updated:,} updates, {hot:,} HOT ({share}); {size}, fillfactor {fillfactor}")
    print(f"a second run, nothing left to purge: {idle_seconds:.1f} s")
    print(f"ORM delete with auditlog signals: {orm_rate:,.0f} rows/s ({args.orm_rows:,} rows)")
    print(f"ratio purge / ORM: {rate / orm_rate:.1f}x   (goal >= 20)")


def _table_stats(connection) -> dict:
    """Per purged table: updates and HOT updates so far, size on disk and fillfactor."""
    with connection.cursor() as cursor:
        # This connection's counts reach the view when it is next idle, at once rather than within a second.
        cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute(
            "SELECT s.relname, s.n_tup_upd, s.n_tup_hot_upd, pg_size_pretty(pg_table_size(s.relid)),"
            " coalesce(array_to_string(c.reloptions, ','), 'default (100)')"
            " FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid"
            " WHERE s.schemaname = current_schema() AND s.relname IN ('answering_call', 'answering_message',"
            " 'answering_voicemail') ORDER BY s.relname"
        )
        return {row[0]: row[1:] for row in cursor.fetchall()}


if __name__ == "__main__":
    main()
