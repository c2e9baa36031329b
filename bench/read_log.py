"""The portal's Today page with the access log, against the same page with no logging at all.

    .venv/bin/python bench/read_log.py [--repeat 40] [--seal-entries 5000]

The demo world (demo_seed) on a throw-away database; Acme's client admin opens Today (messages,
calls, voicemail, appointments: each query that returns personal fields is logged). Three ways,
interleaved in one run, each request on a fresh page load:
- **logged**: as the platform runs now. The request's entries wait in its buffer and are written in
  one INSERT as it ends, with no chain lock; a trigger queues them for the sealer.
- **unlogged**: the audit receivers disconnected, so the gates' reports go nowhere (the baseline).
- **per read, chained** (for comparison, what the log did before): each entry written at once and
  linked into the chain under the company's advisory lock, in its own transaction.
Goal: logged / unlogged <= 1.3. The sealer's own cost, off the request, is printed per entry.
"""

from __future__ import annotations

import argparse
import statistics
import time

from _bench_db import bench_database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--seal-entries", type=int, default=5000)
    parser.add_argument("--queries", action="store_true", help="print the queries the log adds to the page")
    args = parser.parse_args()

    with bench_database():
        from django.db import connection
        from django.db.models.signals import post_save
        from django.test import Client
        from django.test.utils import CaptureQueriesContext
        from django_tenants.utils import tenant_context

        from audit import receivers
        from audit.chain import chain_append, content_of_access
        from audit.models import AccessLogEntry, ChainLink, UnsealedEntry
        from audit.sealing import audit_seal
        from demo.world import demo_seed
        from gates.signals import access_refused, fields_read
        from portal.middleware import SESSION_SCHEMA_KEY
        from tenants.models import ClientCompany, User

        print("bench: seeding the demo world ...", flush=True)
        demo_seed(log=lambda line: None, rich=True)
        acme = ClientCompany.objects.get(schema_name="acme")
        client = Client(HTTP_HOST="acme.localhost")
        client.force_login(User.objects.get(username="acme-admin"))
        session = client.session
        session[SESSION_SCHEMA_KEY] = "acme"
        session.save()

        def unlogged():
            fields_read.disconnect(dispatch_uid="audit.fields_read")
            access_refused.disconnect(dispatch_uid="audit.access_refused")

        def relogged():
            fields_read.connect(receivers.on_fields_read, dispatch_uid="audit.fields_read")
            access_refused.connect(receivers.on_access_refused, dispatch_uid="audit.access_refused")

        def chain_each(sender, instance, created, **kwargs):
            if created:
                chain_append(kind=ChainLink.Kind.ACCESS, ref_id=instance.pk, content=content_of_access(instance))

        buffered = receivers.access_log_buffered

        def per_read():
            receivers.access_log_buffered = lambda **kwargs: False
            post_save.connect(chain_each, sender=AccessLogEntry, dispatch_uid="bench.chain_each")

        def batched():
            receivers.access_log_buffered = buffered
            post_save.disconnect(sender=AccessLogEntry, dispatch_uid="bench.chain_each")

        modes = {
            "logged": (lambda: None, lambda: None),
            "unlogged": (unlogged, relogged),
            "per read, chained": (per_read, batched),
        }

        def count_entries():
            with tenant_context(acme):
                return AccessLogEntry.objects.count()

        queries, entries, sql = {}, {}, {}
        for name, (enter, leave) in modes.items():
            enter()
            try:
                before = count_entries()
                with CaptureQueriesContext(connection) as captured:
                    page = client.get("/")
                if page.status_code != 200:
                    raise SystemExit(f"Today answered {page.status_code} ({name})")
                queries[name] = len(captured.captured_queries)
                sql[name] = [q["sql"] for q in captured.captured_queries]
                entries[name] = count_entries() - before
            finally:
                leave()
        if entries["unlogged"] != 0 or entries["logged"] == 0 or entries["logged"] != entries["per read, chained"]:
            raise SystemExit(f"the modes did not log as they should: {entries}")

        if args.queries:
            import collections
            import re

            def shapes(lines):  # the same query at another instant is the same query
                return collections.Counter(re.sub(r"'\d{4}-\d\d-\d\d [^']*'", "'<time>'", line) for line in lines)

            for line, count in (shapes(sql["logged"]) - shapes(sql["unlogged"])).items():
                print(f"  added by the log ({count}x): {line[:300]}")
        times: dict[str, list[float]] = {name: [] for name in modes}
        for _ in range(args.repeat):
            for name, (enter, leave) in modes.items():
                enter()
                try:
                    start = time.perf_counter()
                    client.get("/")
                    times[name].append(time.perf_counter() - start)
                finally:
                    leave()

        with tenant_context(acme):
            audit_seal()
            AccessLogEntry.objects.bulk_create(
                AccessLogEntry(channel="portal", object_type="crm.Contact", object_ids=[str(n)], fields=["name"])
                for n in range(args.seal_entries)
            )
            waiting = UnsealedEntry.objects.count()
            start = time.perf_counter()
            report = audit_seal()
            sealing = time.perf_counter() - start
            if report.sealed != waiting:
                raise SystemExit(f"sealed {report.sealed} of {waiting}")

    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, value in medians.items():
        print(
            f"{name:>18}: Today {value * 1000:6.1f} ms (median of {args.repeat}), "
            f"{queries[name]} queries, {entries[name]} access-log entries"
        )
    print(f"ratio logged / unlogged: {medians['logged'] / medians['unlogged']:.2f}   (goal <= 1.3)")
    print(f"ratio per read, chained / unlogged: {medians['per read, chained'] / medians['unlogged']:.2f}")
    print(
        f"sealing, off the request: {waiting:,} entries in {sealing:.2f} s = {sealing / waiting * 1e6:.0f} µs per entry"
    )


if __name__ == "__main__":
    main()
