"""`migrate_schemas` over many client companies: nothing pending, then one migration pending.

    .venv/bin/python bench/migrate_many.py [--tenants N] [--changed-share 0.1]

The client companies are onboarded by template clone first. Then, in the same run:
- **up to date**: django-tenants' own executors (standard and multiprocessing), which run Django's
  migrate in every schema, against ours (`tenants/migrating.py`), which finds the up-to-date
  schemas with one statement and skips them;
- **changed**: every schema lacks one migration, then only a share of them (a deploy that reaches
  some companies late). The migration is the admin log's newest one (a client-schema app; a change
  of `choices`, applied with no SQL), whose row is deleted from each client schema's
  `django_migrations`, so the figure is the cost of Django's migrate per schema (loading the graph,
  the plan, the state rendering, the post-migrate signals), which is most of a small migration's
  cost, and not of DDL;
- **public-only**: every schema lacks a public-only app's newest migration, which changes nothing
  in a client schema: django-tenants' standard executor migrates every schema for it, ours records it.
After every run the benchmark checks that no schema is left behind.
- **scale** (`--scale 50,500,2000`): further companies whose schemas hold only a copy of a real
  schema's `django_migrations` (what the deciding statement reads; building 2,000 full schemas
  is the many-tenants benchmark's job), and a no-op `migrate_schemas --tenant` over them all.
Goals: <= 0.01 s per up-to-date company with ours, and multiprocessing / standard <= 0.5.
"""

from __future__ import annotations

import argparse
import contextlib
import io

from _bench_db import bench_database, timed


def public_only_migration() -> tuple[str, str]:
    """A migration of a public-only app that no other migration depends on."""
    from django.conf import settings
    from django.db.migrations.loader import MigrationLoader
    from django_tenants.routers import TenantSyncRouter

    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    router = TenantSyncRouter()
    return min(
        node
        for node in graph.leaf_nodes()
        if not graph.node_map[node].children and not router.app_in_list(node[0], settings.TENANT_APPS)
    )


def tenant_migration() -> tuple[str, str]:
    """The admin log's newest migration, which client schemas hold and Django applies with no SQL."""
    from django.db.migrations.loader import MigrationLoader

    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    (leaf,) = graph.leaf_nodes("admin")
    return leaf


def forget(schemas: list[str], migration: tuple[str, str]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for schema in schemas:
            cursor.execute(f'DELETE FROM "{schema}".django_migrations WHERE app = %s AND name = %s', list(migration))


def migrate(executor: str, *, skipping: bool) -> None:
    """One `migrate_schemas --tenant`, with our skipping executor or django-tenants' own. Its
    per-schema output is swallowed: the benchmark prints its own progress."""
    from django.core.management import call_command
    from django_tenants.management.commands import migrate_schemas
    from django_tenants.migration_executors import get_executor

    ours = migrate_schemas.GET_EXECUTOR_FUNCTION
    if not skipping:
        migrate_schemas.GET_EXECUTOR_FUNCTION = get_executor
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            call_command("migrate_schemas", tenant=True, executor=executor, interactive=False, verbosity=1)
    finally:
        migrate_schemas.GET_EXECUTOR_FUNCTION = ours


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tenants", type=int, default=50, help="client companies to migrate (default 50)")
    parser.add_argument(
        "--changed-share", type=float, default=0.1, help="share of the companies a partial deploy reaches late"
    )
    parser.add_argument(
        "--scale", default="50,500,2000", help="company counts for the no-op at scale (default 50,500,2000)"
    )
    args = parser.parse_args()
    levels = [int(level) for level in args.scale.split(",") if level]

    results: dict[str, float] = {}
    with bench_database():
        from django.conf import settings

        from tenants.migrating import schemas_pending
        from tenants.models import ClientCompany
        from tenants.services import client_onboard, template_ensure

        template_ensure()
        for i in range(args.tenants):
            client_onboard(slug=f"t{i:04d}", name=f"Tenant {i}", domain=f"t{i:04d}.bench")
            if (i + 1) % 10 == 0 or i + 1 == args.tenants:
                print(f"  onboarded {i + 1}/{args.tenants}", flush=True)
        # and the template, which migrate_schemas keeps current too
        schemas = list(ClientCompany.objects.exclude(schema_name="public").values_list("schema_name", flat=True))
        migration, public_only = tenant_migration(), public_only_migration()
        changed = schemas[: max(1, round(len(schemas) * args.changed_share))]
        runs = [
            # (key, executor, skipping, schemas that lack the migration first, the migration)
            ("noop standard", "standard", False, [], migration),
            ("noop multiprocessing", "multiprocessing", False, [], migration),
            ("noop ours", "standard", True, [], migration),
            ("all standard", "standard", False, schemas, migration),
            ("all ours", "standard", True, schemas, migration),
            ("all ours, multiprocessing", "multiprocessing", True, schemas, migration),
            ("share standard", "standard", False, changed, migration),
            ("share ours", "standard", True, changed, migration),
            ("public-only standard", "standard", False, schemas, public_only),
            ("public-only ours", "standard", True, schemas, public_only),
        ]
        for key, executor, skipping, lagging, lacking in runs:
            forget(lagging, lacking)
            with timed(results, key):
                migrate(executor, skipping=skipping)
            left = schemas_pending(schemas)
            if left:
                raise SystemExit(f"{key}: {len(left)} schemas left behind, first {left[0]}")
            print(f"  {key}: {results[key]:.2f} s ({len(lagging)} of {len(schemas)} lacking {'.'.join(lacking)})")
        processes = settings.TENANT_MULTIPROCESSING_MAX_PROCESSES
        scale = noop_at_scale(schemas[0], levels)

    n, k = len(schemas), len(changed)
    print(f"\n{n} schemas; {k} reached late in the partial deploy")
    print("up to date, s per company:")
    for key in ("noop standard", "noop multiprocessing", "noop ours"):
        print(f"  {key:>22}: {results[key] / n:.4f}")
    print(f"  ours: {results['noop ours'] / n:.4f} s per up-to-date company   (goal <= 0.01)")
    print(f"  ratio ours / standard: {results['noop ours'] / results['noop standard']:.3f}")
    print("every schema changed, s per company:")
    for key in ("all standard", "all ours", "all ours, multiprocessing"):
        print(f"  {key:>22}: {results[key] / n:.4f}")
    print(f"  ratio ours / standard: {results['all ours'] / results['all standard']:.2f}   (the check's overhead)")
    ratio = results["all ours, multiprocessing"] / results["all standard"]
    print(f"  ratio multiprocessing ({processes} processes) / standard: {ratio:.2f}   (goal <= 0.5)")
    print(f"partial deploy, {k} changed of {n}:")
    print(f"  standard {results['share standard']:.2f} s, ours {results['share ours']:.2f} s")
    print(f"  ratio ours / standard: {results['share ours'] / results['share standard']:.3f}")
    # ours in the partial deploy = k changed + (n - k) skipped; the skipped part is the no-op's figure
    per_changed = (results["share ours"] - results["noop ours"] * (n - k) / n) / k
    print(f"  ours, s per changed company: {per_changed:.4f}")
    print("a public-only migration pending everywhere, s per company:")
    standard, ours = results["public-only standard"] / n, results["public-only ours"] / n
    print(f"  standard {standard:.4f}, ours (recorded) {ours:.4f}")
    print(f"  ratio ours / standard: {results['public-only ours'] / results['public-only standard']:.3f}")
    if scale:
        print("no-op at scale (ours), s per up-to-date company:")
        for count, seconds in scale.items():
            print(f"  {count:>6} companies: {seconds / count:.4f}   (whole command {seconds:.2f} s)")
        first, last = min(scale), max(scale)
        ratio = (scale[last] / last) / (scale[first] / first)
        print(f"  ratio per company at {last} / at {first}: {ratio:.2f}   (goal <= 1.5)")


def noop_at_scale(model: str, levels: list[int]) -> dict[int, float]:
    """A no-op `migrate_schemas --tenant` (ours) at each count of companies, made up with schemas
    that hold a copy of `model`'s django_migrations."""
    from django.db import connection

    from tenants.migrating import schemas_pending
    from tenants.models import ClientCompany

    results: dict[int, float] = {}
    made = ClientCompany.objects.exclude(schema_name="public").count()
    for level in sorted(levels):
        with connection.cursor() as cursor:
            while made < level:
                schema = f"bare{made:05d}"
                cursor.execute(f'CREATE SCHEMA "{schema}"')
                cursor.execute(f'CREATE TABLE "{schema}".django_migrations (LIKE "{model}".django_migrations)')
                cursor.execute(f'INSERT INTO "{schema}".django_migrations SELECT * FROM "{model}".django_migrations')
                ClientCompany.objects.create(schema_name=schema, name=schema)
                made += 1
                if made % 250 == 0:
                    print(f"  made {made}/{max(levels)} companies", flush=True)
        with timed(results, made):  # at least `level`: the companies made before count too
            migrate("standard", skipping=True)
        schemas = list(ClientCompany.objects.exclude(schema_name="public").values_list("schema_name", flat=True))
        if schemas_pending(schemas):
            raise SystemExit(f"scale {made}: schemas left behind")
        print(f"  no-op at {made} companies: {results[made]:.2f} s", flush=True)
    return results


if __name__ == "__main__":
    main()
