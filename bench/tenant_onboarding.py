"""Onboarding a client company: template clone versus running every migration.

    .venv/bin/python bench/tenant_onboarding.py [--count N]

Both ways are measured in the same run, on the same server, and the ratio is printed.
Goal: clone / migrate <= 0.3.
"""

from __future__ import annotations

import argparse
import statistics
import time

from _bench_db import bench_database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=5, help="client companies created each way (default 5)")
    args = parser.parse_args()

    with bench_database():
        from django.test import override_settings

        from tenants.models import ClientCompany
        from tenants.services import client_onboard, template_ensure

        template_ensure()
        clone_times, migrate_times = [], []
        for i in range(args.count):
            # Interleaved, so that drift in the machine's load hits both ways alike.
            start = time.perf_counter()
            client_onboard(slug=f"clone{i}", name=f"Clone {i}", domain=f"clone{i}.bench")
            clone_times.append(time.perf_counter() - start)

            start = time.perf_counter()
            with override_settings(TENANT_CREATION_FAKES_MIGRATIONS=False, TENANT_BASE_SCHEMA=None):
                company = ClientCompany.objects.create(schema_name=f"migrate{i}", name=f"Migrate {i}")
                company.create_schema(check_if_exists=True, verbosity=0)
            migrate_times.append(time.perf_counter() - start)
            print(
                f"  {i + 1}/{args.count}: clone {clone_times[-1]:.2f} s, migrate {migrate_times[-1]:.2f} s", flush=True
            )

    clone, migrate = statistics.median(clone_times), statistics.median(migrate_times)
    print(f"onboarding by template clone: {clone:.3f} s per company (median of {args.count})")
    print(f"onboarding by migrations:     {migrate:.3f} s per company (median of {args.count})")
    print(f"ratio clone / migrate: {clone / migrate:.2f}   (goal <= 0.30)")


if __name__ == "__main__":
    main()
