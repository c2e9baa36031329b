"""`migrate_schemas` over many client companies, with nothing pending.

    .venv/bin/python bench/migrate_many.py [--tenants N]

The client companies are onboarded by template clone first. Then, in the same run: django-tenants'
own executors (standard and multiprocessing), which run Django's migrate in every schema, and ours
(`tenants/migrating.py`), which finds the up-to-date schemas with one query and skips them.
Goals: <= 0.01 s per up-to-date company with ours, and multiprocessing / standard <= 0.5.
"""

from __future__ import annotations

import argparse

from _bench_db import bench_database, timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tenants", type=int, default=50, help="client companies to migrate (default 50)")
    args = parser.parse_args()

    results: dict[str, float] = {}
    with bench_database():
        from django.conf import settings
        from django.core.management import call_command

        from tenants.services import client_onboard, template_ensure

        template_ensure()
        for i in range(args.tenants):
            client_onboard(slug=f"t{i:04d}", name=f"Tenant {i}", domain=f"t{i:04d}.bench")
            if (i + 1) % 10 == 0 or i + 1 == args.tenants:
                print(f"  onboarded {i + 1}/{args.tenants}", flush=True)
        schemas = args.tenants + 1  # and the template, which migrate_schemas keeps current too

        from django_tenants.management.commands import migrate_schemas
        from django_tenants.migration_executors import get_executor

        ours = migrate_schemas.GET_EXECUTOR_FUNCTION
        for executor in ("standard", "multiprocessing"):
            migrate_schemas.GET_EXECUTOR_FUNCTION = get_executor  # django-tenants' own, no skipping
            try:
                with timed(results, executor):
                    call_command("migrate_schemas", tenant=True, executor=executor, interactive=False, verbosity=0)
            finally:
                migrate_schemas.GET_EXECUTOR_FUNCTION = ours
            print(f"  {executor}: {results[executor]:.2f} s", flush=True)
        with timed(results, "skipping"):
            call_command("migrate_schemas", tenant=True, interactive=False, verbosity=0)
        print(f"  skipping: {results['skipping']:.2f} s", flush=True)
        processes = settings.TENANT_MULTIPROCESSING_MAX_PROCESSES

    for executor in ("standard", "multiprocessing", "skipping"):
        print(f"{executor:>15}: {results[executor] / schemas:.4f} s per up-to-date company ({schemas} schemas)")
    print(f"skipping: {results['skipping'] / schemas:.4f} s per up-to-date company   (goal <= 0.01)")
    print(f"ratio skipping / standard: {results['skipping'] / results['standard']:.3f}")
    ratio = results["multiprocessing"] / results["standard"]
    print(f"ratio multiprocessing ({processes} processes) / standard: {ratio:.2f}   (goal <= 0.5)")


if __name__ == "__main__":
    main()
