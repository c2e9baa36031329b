"""Re-encryption speed of `rotate_keys` against a plain UPDATE of the same rows, in the same run.

    .venv/bin/python bench/rotate_keys.py [--contacts 20000] [--batch 500]

One client company with N contacts (six encrypted columns each, three blind indexes). The
baseline rewrites every one of those columns and indexes with a single plain UPDATE (the same
values, so the same row sizes and index churn, no cryptography); the rotation then gives the
company a new field key and moves every row onto it, batch by batch, decrypting, encrypting and
recomputing the indexes. Rows per second of each, and the ratio, are printed.
"""

from __future__ import annotations

import argparse
import time

from _bench_db import bench_database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()

    with bench_database():
        from django.conf import settings
        from django.db import connection
        from django_tenants.utils import tenant_context

        from crm.blind_index import blind_index, name_normalise
        from crm.models import Contact
        from tenants.rekey import company_rotate, company_stale
        from tenants.services import client_onboard, provider_ensure, template_ensure

        provider_ensure(domain="localhost")
        template_ensure()
        company = client_onboard(slug="rotation", name="Rotation", domain="rotation.bench")
        print(f"bench: {args.contacts:,} contacts ...", flush=True)
        with tenant_context(company):
            batch = []
            for i in range(args.contacts):
                number, email, name = f"+3725{i:07d}", f"caller{i}@example.ee", f"Caller {i}"
                batch.append(
                    Contact(
                        name=name,
                        phone_number=number,
                        email=email,
                        address=f"Street {i}, Tallinn",
                        notes=f"Notes about caller {i} " * 4,
                        health_notes=f"Health remark {i}",
                        phone_bidx=blind_index(number),
                        email_bidx=blind_index(email),
                        name_bidx=blind_index(name_normalise(name)),
                    )
                )
                if len(batch) == 5000:
                    Contact.objects.bulk_create(batch)
                    batch.clear()
            Contact.objects.bulk_create(batch)
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE crm_contact")
                start = time.perf_counter()
                cursor.execute(
                    "UPDATE crm_contact SET name = name, phone_number = phone_number, email = email, "
                    "address = address, notes = notes, health_notes = health_notes, phone_bidx = phone_bidx, "
                    "email_bidx = email_bidx, name_bidx = name_bidx"
                )
                plain = time.perf_counter() - start
                if cursor.rowcount != args.contacts:
                    raise SystemExit(f"the plain UPDATE touched {cursor.rowcount} rows")

            lines = []
            settings.KEY_CACHE_SECONDS = 0  # one process: no other server can hold an old version
            start = time.perf_counter()
            moved = company_rotate(company_id=company.pk, batch=args.batch, progress=lines.append)
            rotated = time.perf_counter() - start
            left = company_stale(company.pk)
            if moved["rows"] < args.contacts or left:
                raise SystemExit(f"the rotation moved {moved} and left {left}: the benchmark is wrong")
            sample = Contact.objects.order_by("pk").first()
            if (
                not sample.name.startswith("Caller ")
                or Contact.objects.filter(phone_bidx=blind_index(sample.phone_number)).count() != 1
            ):
                raise SystemExit("a rotated row does not read back or is not found by its index")

    rows = args.contacts
    print(f"plain UPDATE of the same rows:     {rows / plain:>10,.0f} rows/s ({plain:.2f} s)")
    print(f"rotate_keys (batch {args.batch}):        {moved['rows'] / rotated:>10,.0f} rows/s ({rotated:.2f} s)")
    print(f"ratio rotate_keys / plain UPDATE time: {rotated / plain:.1f}x")


if __name__ == "__main__":
    main()
