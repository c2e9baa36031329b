"""`migrate_schemas` over many client companies, with nothing pending: standard vs multiprocessing.

    .venv/bin/python bench/migrate_many.py [--tenants N]

The client companies are onboarded by template clone first; then each executor migrates all of
them, in the same run. Goals: <= 0.1 s per tenant, and multiprocessing / standard <= 0.6.
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

        for executor in ("standard", "multiprocessing"):
            with timed(results, executor):
                call_command("migrate_schemas", tenant=True, executor=executor, interactive=False, verbosity=0)
            print(f"  {executor}: {results[executor]:.2f} s", flush=True)
        processes = settings.TENANT_MULTIPROCESSING_MAX_PROCESSES

    for executor in ("standard", "multiprocessing"):
        print(f"{executor:>15}: {results[executor] / schemas:.3f} s per tenant ({schemas} schemas)  (goal <= 0.1)")
    ratio = results["multiprocessing"] / results["standard"]
    print(f"ratio multiprocessing ({processes} processes) / standard: {ratio:.2f}   (goal <= 0.6)")


if __name__ == "__main__":
    main()
