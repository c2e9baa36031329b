"""The retention purge against deleting the same kind of rows through the ORM, in the same run.

    .venv/bin/python bench/retention_purge.py [--calls 1000000] [--messages 200000] [--files 2000]
        [--orm-rows 5000]

One client company with N expired calls, M expired messages and F voicemails with encrypted audio
files. The purge (set-based, in batches, one change-log entry per run) is timed over all of them;
the baseline deletes --orm-rows calls one by one through the ORM, with auditlog's signals writing
an entry per row, as a naive purge would. Goals: >= 100,000 rows/s, and >= 20x the ORM's rate.
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

            start = time.perf_counter()
            run = retention_purge(batch=args.batch)
            seconds = time.perf_counter() - start
            purged = sum(run.report["purged"].values())

    rate = purged / seconds
    print(f"purge: {purged:,} rows in {seconds:.1f} s = {rate:,.0f} rows/s   (goal >= 100,000)")
    print(f"  by kind: {run.report['purged']}")
    print(f"ORM delete with auditlog signals: {orm_rate:,.0f} rows/s ({args.orm_rows:,} rows)")
    print(f"ratio purge / ORM: {rate / orm_rate:.1f}x   (goal >= 20)")


if __name__ == "__main__":
    main()
