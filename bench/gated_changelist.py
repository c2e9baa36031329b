"""The agent's gated admin changelist against the same page unfiltered.

    .venv/bin/python bench/gated_changelist.py [--calls 100000] [--repeat 15]

One client company with 10 lines and N calls (default 100,000). An agent holds a grant on one line,
so 10% of the calls; a supervisor sees them all, unfiltered by the object gate, with the same
columns. Both pages are rendered through the full Django stack, interleaved, in the same run.
Goals: gated / unfiltered <= 1.3; the gated page / the ORM's own row query <= 3; queries per page
that do not grow with the page size. `--profile` profiles 20 gated pages first (cProfile, sorted by
`BENCH_SORT`, filtered by `BENCH_FILTER`, with the callees of `BENCH_CALLEES`).

It also prints, for both pages at 20, 100 and 400 rows, every query the page makes, the access-log
writes included: the access-log INSERT and its chain link (the advisory lock, the chain head and
the link's INSERT) counted apart from the rest; and the time of the ORM's own row query (the 100
calls the gated page lists, fetched with the gates' queryset and nothing else) as a floor.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time

from _bench_db import admin_client, bench_company, bench_database


def query_kinds(captured) -> dict[str, int]:
    """A page's queries: all of them, the access-log INSERTs, and the chain link's statements (the
    advisory lock, the chain head, the link's INSERT and the transaction around them: a GET of a
    changelist opens no other)."""
    sqls = [q["sql"] for q in captured.captured_queries]
    access = sum(1 for sql in sqls if sql.startswith('INSERT INTO "audit_accesslogentry"'))
    control = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE SAVEPOINT")
    chain = sum(
        1
        for sql in sqls
        if '"audit_chainlink"' in sql or "pg_advisory_xact_lock" in sql or sql.split(" ")[0] in control
    )
    return {"total": len(sqls), "access_log_inserts": access, "chain": chain, "rest": len(sqls) - access - chain}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--explain", action="store_true", help="print each page's slowest queries and plans")
    parser.add_argument("--queries", action="store_true", help="print every query of the gated page at 100 rows")
    parser.add_argument("--profile", action="store_true", help="profile 20 gated pages first (cProfile)")
    args = parser.parse_args()

    with bench_database():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext
        from django.utils import timezone
        from django_tenants.utils import tenant_context
        from guardian.shortcuts import assign_perm

        from answering.admin import CallAdmin
        from answering.models import Call, Line

        company, people = bench_company(
            slug="bench", staff=("agent", "supervisor"), read_grants=("user.contact.name", "user.contact.phone_number")
        )
        agent, supervisor = people["agent"], people["supervisor"]

        print(f"bench: creating {args.calls:,} calls on 10 lines ...", flush=True)
        with tenant_context(company):
            lines = [Line.objects.create(name=f"Line {i}", phone_number=f"+37260090{i:02d}") for i in range(10)]
            assign_perm("answering.view_line", agent, lines[0])
            start = timezone.now() - dt.timedelta(days=365)
            batch = []
            for i in range(args.calls):
                batch.append(
                    Call(
                        line=lines[i % 10],
                        telephony_sid=f"CA{i:032d}",
                        started_at=start + dt.timedelta(minutes=5 * i),
                        caller_number=f"+3725{i:07d}",
                        caller_name=f"Caller {i}",
                    )
                )
                if len(batch) == 5000:
                    Call.objects.bulk_create(batch)
                    batch.clear()
                    print(f"  {i + 1:,}/{args.calls:,}", flush=True)
            Call.objects.bulk_create(batch)
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")

        clients = {
            "gated (agent, 10% of rows)": admin_client(agent, "bench"),
            "unfiltered (supervisor)": admin_client(supervisor, "bench"),
        }
        url = "/admin/answering/call/"
        for client in clients.values():  # warm up
            assert client.get(url).status_code == 200

        if args.profile:
            import cProfile
            import os
            import pstats

            profile = cProfile.Profile()
            gated_client = next(iter(clients.values()))
            profile.enable()
            for _ in range(20):
                gated_client.get(url)
            profile.disable()
            stats = pstats.Stats(profile).sort_stats(os.environ.get("BENCH_SORT", "tottime"))
            stats.print_stats(os.environ.get("BENCH_FILTER", ""), 50)
            if os.environ.get("BENCH_CALLEES"):
                stats.print_callees(os.environ["BENCH_CALLEES"])

        times: dict[str, list[float]] = {name: [] for name in clients}
        for _ in range(args.repeat):
            for name, client in clients.items():
                begin = time.perf_counter()
                response = client.get(url)
                times[name].append(time.perf_counter() - begin)
                assert response.status_code == 200

        if args.explain:
            for name, client in clients.items():
                timings = []

                def wrapper(execute, sql, params, many, context, timings=timings):
                    t = time.perf_counter()
                    try:
                        return execute(sql, params, many, context)
                    finally:
                        timings.append((time.perf_counter() - t, sql[:300]))

                with connection.execute_wrapper(wrapper):
                    client.get(url)
                print(name)
                for t, sql in sorted(timings, reverse=True)[:6]:
                    print(f"  {t * 1000:7.1f} ms  {sql}")
            with tenant_context(company):
                from gates.engine import objects_visible, policy_for

                policy = policy_for(user=agent, company=company)
                gated = objects_visible(policy=policy, user=agent, queryset=Call.objects.all())
                print(gated.order_by("-started_at")[:100].explain(analyze=True))
        # The ORM's own row query: the gated page's 100 rows, fetched and nothing else.
        from gates.engine import objects_visible, policy_for

        with tenant_context(company):
            policy = policy_for(user=agent, company=company)
            gated_rows = objects_visible(policy=policy, user=agent, queryset=Call.objects.all())
            gated_rows = gated_rows.defer(*policy.masked(Call)).order_by("-started_at", "-pk")
            row_times = []
            for _ in range(args.repeat):
                begin = time.perf_counter()
                assert len(list(gated_rows[: CallAdmin.list_per_page])) == CallAdmin.list_per_page
                row_times.append(time.perf_counter() - begin)

        default_per_page = CallAdmin.list_per_page
        queries: dict[str, dict[int, dict[str, int]]] = {name: {} for name in clients}
        for per_page in (20, 100, 400):
            CallAdmin.list_per_page = per_page
            for name, client in clients.items():
                with CaptureQueriesContext(connection) as captured:
                    assert client.get(url).status_code == 200
                queries[name][per_page] = query_kinds(captured)
                if args.queries and per_page == 100 and name.startswith("gated"):
                    for n, query in enumerate(captured.captured_queries, 1):
                        print(f"  {n:>2}. {query['sql'][:160]}")
        CallAdmin.list_per_page = default_per_page

    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, value in medians.items():
        print(f"{name:>28}: {value * 1000:.1f} ms per page (median of {args.repeat})")
    row_query = statistics.median(row_times)
    print(f"{'ORM row query (gated, 100)':>28}: {row_query * 1000:.1f} ms (median of {args.repeat})")
    gated, unfiltered = medians.values()
    print(f"ratio gated / unfiltered: {gated / unfiltered:.2f}   (goal <= 1.3)")
    print(f"ratio gated page / the ORM's own row query: {gated / row_query:.1f}   (goal <= 3)")
    print("queries per page (total = access-log INSERT + chain link + the rest):")
    for name, by_size in queries.items():
        print(f"  {name}")
        for per_page, kinds in by_size.items():
            print(
                f"    {per_page:>3} rows: {kinds['total']} = {kinds['access_log_inserts']} + {kinds['chain']} + "
                f"{kinds['rest']}"
            )
    constant = all(len({kinds["total"] for kinds in by_size.values()}) == 1 for by_size in queries.values())
    print(f"queries constant across page sizes: {'yes' if constant else 'NO'}")


if __name__ == "__main__":
    main()
