"""Many client companies on one node: what each one costs as their number grows.

    CELERY_BROKER_URL=redis://127.0.0.1:6379/5 .venv/bin/python bench/many_tenants.py [--count 2000]

Onboards companies by template clone (`client_onboard`) up to `--count`, and at 50, 500 and
`--count` (the levels reached) measures, in the same run:
- **onboarding**: seconds per `client_onboard`, the median of the last 50 before the level;
- **no-op migrate**: one `migrate_schemas --tenant` on a fresh connection (as a deploy starts),
  nothing pending, seconds per schema (the companies and the template);
- **catalog**: growth of the system catalogs (`pg_class`, `pg_attribute`, `pg_index`, `pg_depend`,
  ...: `pg_total_relation_size` of every `pg_catalog` table) since before the first company, per
  company, and the companies' own relations on disk per company;
- **a beat job over every company**: `audit.seal` (beat sends it to every active company every
  `AUDIT_SEAL_SECONDS`), with one access-log entry queued in each company first: beat's fan-out
  (`ActiveTenantsScheduler.apply_entry`, one message per company to the broker of
  `CELERY_BROKER_URL`, read back and removed) and the worker's side (the task run in each
  company's schema as tenant-schemas-celery runs it); time, and peak Python memory (tracemalloc,
  in a second pass) and the process's peak RSS;
- **a portal request**: the Today page of the first company, as its signed-in client admin
  (Django's test client), the median of 15 after 3 to warm up, and its query count.
Then it prints each figure at the last level against the first (goal: each <= 1.5).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc

from _bench_db import bench_database

LEVELS = (50, 500, 2000)
CATALOG_BYTES = (
    "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
    "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'pg_catalog' AND c.relkind = 'r'"
)
CATALOG_TABLES = ("pg_class", "pg_attribute", "pg_index", "pg_depend", "pg_constraint", "pg_type", "pg_statistic")


def catalog_sizes(cursor) -> dict[str, int]:
    cursor.execute(CATALOG_BYTES)
    sizes = {"all": cursor.fetchone()[0]}
    for table in CATALOG_TABLES:
        cursor.execute("SELECT pg_total_relation_size(%s::regclass)", [f"pg_catalog.{table}"])
        sizes[table] = cursor.fetchone()[0]
    cursor.execute("SELECT count(*) FROM pg_class")
    sizes["relations"] = cursor.fetchone()[0]
    return sizes


def companies_on_disk(cursor, prefix: str) -> int:
    """Bytes on disk of every relation in the benchmark's company schemas (toast and indexes counted
    once, with their table; sequences too)."""
    cursor.execute(
        "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname LIKE %s AND c.relkind IN ('r', 'p', 'S', 'm')",
        [prefix + "%"],
    )
    return cursor.fetchone()[0]


def relations_of(cursor, schema: str) -> dict[str, int]:
    """One company's relations by kind, its toast tables and their indexes included."""
    cursor.execute(
        "SELECT c.relkind, count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s GROUP BY c.relkind",
        [schema],
    )
    kinds = dict(cursor.fetchall())
    cursor.execute(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.reltoastrelid <> 0",
        [schema],
    )
    toast = cursor.fetchone()[0]
    return {
        "tables": kinds.get("r", 0) + kinds.get("p", 0),
        "indexes": kinds.get("i", 0),
        "sequences": kinds.get("S", 0),
        "views": kinds.get("v", 0),
        "toast tables": toast,
        "toast indexes": toast,
        "total": sum(kinds.values()) + 2 * toast,
    }


def noop_migrate() -> float:
    from django.core.management import call_command
    from django.db import connections

    connections.close_all()  # a deploy starts on a fresh connection, with a cold relation cache
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()) as out:
        call_command("migrate_schemas", tenant=True, interactive=False, verbosity=1)
    seconds = time.perf_counter() - start
    if " 0 to migrate" not in out.getvalue():
        raise SystemExit(f"migrate_schemas was not a no-op:\n{out.getvalue()}")
    return seconds


def queue_one_entry_each(schemas: list[str]) -> None:
    from django_tenants.utils import schema_context

    from audit.models import AccessLogEntry

    for schema in schemas:
        with schema_context(schema):
            AccessLogEntry.objects.create(
                channel="system", object_type="bench", object_ids=["1"], fields=[], job="benchmark"
            )


def beat_fanout(scheduler, entry) -> int:
    """Beat's side: one `audit.seal` message per active company, sent to the broker. Returns how
    many the broker then held, and removes them."""
    from django.conf import settings

    from config.celery import app

    with app.connection_for_write() as conn:
        producer = app.amqp.Producer(conn)
        scheduler.apply_entry(entry, producer=producer)
        queue = settings.CELERY_TASK_DEFAULT_QUEUE
        with conn.channel() as channel:
            _, held, _ = channel.queue_declare(queue=queue, passive=True)
            channel.queue_purge(queue)
    return held


def worker_walk(schemas: list[str]) -> int:
    """The worker's side: `audit.seal` run in each company's schema, as tenant-schemas-celery runs
    a task it received (the schema from the message's headers). Returns the entries sealed."""
    from audit.tasks import audit_seal_task

    logging.getLogger("celery.app.trace").setLevel(logging.WARNING)  # a line per task otherwise
    sealed = 0
    for schema in schemas:
        sealed += audit_seal_task.apply(headers={"_schema_name": schema}).get()
    return sealed


def measure_beat(schemas: list[str]) -> dict[str, float]:
    from django.db import connection

    from config.celery import app
    from tenants.beat import ActiveTenantsScheduler

    with tempfile.TemporaryDirectory() as tmp:
        scheduler = ActiveTenantsScheduler(app=app, schedule_filename=f"{tmp}/beat", lazy=True)
        scheduler.setup_schedule()
        entry = scheduler.schedule["audit-seal@__all_tenants_only__"]
        figures: dict[str, float] = {}
        for pass_ in ("timed", "traced"):
            queue_one_entry_each(schemas)
            connection.set_schema_to_public()
            if pass_ == "traced":
                tracemalloc.start()
            start = time.perf_counter()
            sent = beat_fanout(scheduler, entry)
            fanout = time.perf_counter() - start
            if pass_ == "traced":
                figures["fanout peak"] = tracemalloc.get_traced_memory()[1]
                tracemalloc.reset_peak()
            start = time.perf_counter()
            sealed = worker_walk(schemas)
            walk = time.perf_counter() - start
            if pass_ == "traced":
                figures["walk peak"] = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
            else:
                figures["fanout"], figures["walk"] = fanout, walk
            if sent != len(schemas) or sealed != len(schemas):
                raise SystemExit(f"beat sent {sent} and the walk sealed {sealed} for {len(schemas)} companies")
        scheduler.close()
    connection.set_schema_to_public()
    figures["maxrss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return figures


def portal_request(client) -> tuple[float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times = []
    for attempt in range(18):
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            page = client.get("/")
            elapsed = time.perf_counter() - start
        if page.status_code != 200:
            raise SystemExit(f"the portal's Today page answered {page.status_code}")
        if attempt >= 3:
            times.append(elapsed)
    connection.set_schema_to_public()
    return statistics.median(times), len(captured.captured_queries)


def portal_client(company):
    from django.test import Client

    from portal.middleware import SESSION_SCHEMA_KEY
    from tenants.models import Membership, User

    user = User.objects.create_user("client", password="x")
    Membership.objects.create(user=user, company=company, role="client_admin")
    client = Client(HTTP_HOST=f"{company.schema_name}.localhost")
    client.force_login(user)
    session = client.session
    session[SESSION_SCHEMA_KEY] = company.schema_name
    session.save()
    return client


def load() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=2000, help="client companies to onboard (default 2,000)")
    args = parser.parse_args()
    levels = sorted({level for level in LEVELS if level < args.count} | {args.count})

    report: dict[int, dict[str, float]] = {}
    with bench_database():
        from django.db import connection

        from tenants.models import ClientCompany
        from tenants.services import client_onboard, provider_ensure, template_ensure

        provider_ensure(domain="localhost")
        template = template_ensure()
        with connection.cursor() as cursor:
            catalog_before = catalog_sizes(cursor)
            cursor.execute("SELECT pg_database_size(current_database())")
            database_before = cursor.fetchone()[0]
            relations = relations_of(cursor, template.schema_name)
        print(f"bench: one company's schema holds {relations}", flush=True)

        times: list[float] = []
        client = None
        started = time.perf_counter()
        for i in range(args.count):
            slug = f"c{i:05d}"
            start = time.perf_counter()
            company = client_onboard(slug=slug, name=f"Company {i}", domain=f"{slug}.localhost")
            times.append(time.perf_counter() - start)
            if client is None:
                client = portal_client(company)
            n = i + 1
            if n % 25 == 0 or n in levels:
                rate = n / (time.perf_counter() - started)
                print(
                    f"  onboarded {n}/{args.count}: last {times[-1]:.2f} s, {rate:.1f} per s, "
                    f"about {(args.count - n) / rate / 60:.0f} min to go (load {load()})",
                    flush=True,
                )
            if n not in levels:
                continue
            figures = report[n] = {"onboarding": statistics.median(times[-50:])}
            print(f"bench: at {n} companies, measuring (load {load()}) ...", flush=True)
            figures["migrate"] = noop_migrate()
            figures["migrate per schema"] = figures["migrate"] / (n + 1)
            with connection.cursor() as cursor:
                catalog = catalog_sizes(cursor)
                cursor.execute("SELECT pg_database_size(current_database())")
                database = cursor.fetchone()[0]
                figures["disk per company"] = companies_on_disk(cursor, "c") / n
            for key, before in catalog_before.items():
                figures[f"catalog {key}"] = (catalog[key] - before) / n
            figures["database per company"] = (database - database_before) / n
            schemas = list(
                ClientCompany.objects.filter(kind=ClientCompany.Kind.CLIENT, status=ClientCompany.Status.ACTIVE)
                .order_by("schema_name")
                .values_list("schema_name", flat=True)
            )
            beat = measure_beat(schemas)
            figures.update({f"beat {key}": value for key, value in beat.items()})
            figures["beat walk per company"] = beat["walk"] / n
            figures["beat fanout per company"] = beat["fanout"] / n
            figures["portal"], figures["portal queries"] = portal_request(client)
            figures["load"] = float(load().split()[0])
            print_level(n, figures)

    first, last = min(report), max(report)
    print(f"\nfigures at {last} companies against {first} (goal: each ratio <= 1.5)")
    compared = (
        ("onboarding", "s per onboarding", 1),
        ("migrate per schema", "s per schema, no-op migrate_schemas", 1),
        ("catalog all", "catalog bytes per company", 1),
        ("disk per company", "companies' relations on disk, bytes per company", 1),
        ("beat walk per company", "audit.seal in every company, worker's s per company", 1),
        ("beat fanout per company", "audit.seal, beat's fan-out, s per company", 1),
        ("beat walk peak", "audit.seal walk, peak traced bytes", 0),
        ("portal", "portal Today, s per request", 0),
        ("portal queries", "portal Today, queries", 0),
    )
    for key, label, _ in compared:
        a, b = report[first][key], report[last][key]
        print(f"  {label:>55}: {a:.6g} at {first}, {b:.6g} at {last}: ratio {b / a:.2f}")
    print(f"load average now {load()}")


def print_level(n: int, f: dict[str, float]) -> None:
    mib = 1024 * 1024
    print(f"== {n} companies (load {f['load']:.2f})")
    print(f"  onboarding: {f['onboarding']:.3f} s per company (median of the last 50)")
    print(f"  no-op migrate_schemas --tenant: {f['migrate']:.2f} s, {f['migrate per schema']:.5f} s per schema")
    print(
        f"  catalog growth per company: {f['catalog all'] / 1024:.0f} KiB "
        + ", ".join(f"{t} {f['catalog ' + t] / 1024:.0f} KiB" for t in CATALOG_TABLES)
        + f"; {f['catalog relations']:.0f} relations"
    )
    print(
        f"  on disk per company: its relations {f['disk per company'] / 1024:.0f} KiB, "
        f"the database's growth {f['database per company'] / 1024:.0f} KiB"
    )
    print(
        f"  beat audit.seal: fan-out {f['beat fanout']:.2f} s "
        f"({f['beat fanout per company'] * 1000:.2f} ms per company, "
        f"peak {f['beat fanout peak'] / mib:.1f} MiB traced), worker walk {f['beat walk']:.2f} s "
        f"({f['beat walk per company'] * 1000:.2f} ms per company, peak {f['beat walk peak'] / mib:.1f} MiB traced); "
        f"process peak RSS {f['beat maxrss'] / mib:.0f} MiB"
    )
    print(f"  portal Today: {f['portal'] * 1000:.1f} ms (median of 15), {f['portal queries']:.0f} queries", flush=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
