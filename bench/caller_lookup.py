"""Caller lookup by phone number at 10,000 and at 1,000,000 contacts.

    .venv/bin/python bench/caller_lookup.py [--small 10000] [--large 1000000] [--lookups 500]

Both sizes live in the same run (two client companies on one server). The lookup is one
indexed equality on the keyed-HMAC blind index, so its cost should barely grow with the table:
goal large / small <= 1.5. The plan of one lookup is printed to show the index in use.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from _bench_db import bench_database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=500)
    args = parser.parse_args()

    with bench_database():
        from django.db import connection
        from django_tenants.utils import tenant_context

        from crm.blind_index import blind_index
        from crm.models import Contact
        from crm.selectors import contact_find_by_phone
        from tenants.services import client_onboard, provider_ensure, template_ensure

        provider_ensure(domain="localhost")
        template_ensure()
        companies = {}
        for label, size in (("small", args.small), ("large", args.large)):
            company = client_onboard(slug=f"lookup_{label}", name=label, domain=f"{label}.bench")
            companies[label] = (company, size)
            print(f"bench: {size:,} contacts in {label} ...", flush=True)
            with tenant_context(company):
                batch = []
                for i in range(size):
                    number = f"+3725{i:07d}"
                    # bulk_create skips save(): compute the blind index here as save() would.
                    batch.append(Contact(name=f"Caller {i}", phone_number=number, phone_bidx=blind_index(number)))
                    if len(batch) == 10_000:
                        Contact.objects.bulk_create(batch)
                        batch.clear()
                        if (i + 1) % 100_000 == 0:
                            print(f"  {i + 1:,}/{size:,}", flush=True)
                Contact.objects.bulk_create(batch)
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE crm_contact")

        results = {}
        rng = random.Random(7)
        for label, (company, size) in companies.items():
            with tenant_context(company):
                numbers = [f"+3725{rng.randrange(size):07d}" for _ in range(args.lookups)]
                for number in numbers[:20]:  # warm the cache
                    contact_find_by_phone(number=number)
                timings = []
                for number in numbers:
                    start = time.perf_counter()
                    found = contact_find_by_phone(number=number)
                    timings.append(time.perf_counter() - start)
                    if found is None or found.phone_number != number:
                        raise SystemExit(f"lookup of {number} found {found}: the benchmark's data is wrong")
                results[label] = statistics.median(timings)
                if label == "large":
                    print(Contact.objects.filter(phone_bidx=blind_index(numbers[0])).explain())

    for label, (_, size) in companies.items():
        print(f"{label:>6} ({size:>9,} contacts): {results[label] * 1000:.3f} ms per lookup (median of {args.lookups})")
    print(f"ratio large / small: {results['large'] / results['small']:.2f}   (goal <= 1.5)")


if __name__ == "__main__":
    main()
