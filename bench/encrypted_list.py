"""The agent's contact list page over encrypted columns, against the same page over plaintext ones.

    .venv/bin/python bench/encrypted_list.py [--contacts 20000] [--repeat 15]

One client company whose DPA grants agents names only. Its `crm.Contact` rows (name, number,
e-mail, address, notes, health notes: all encrypted) are mirrored into a plaintext table with the
same columns, and both are shown through the same gated admin, as the same agent, with the same
columns and data categories. Masked fields must never be loaded or decrypted, so the encrypted
page should cost little more than the plaintext one: goal <= 1.2. The cost of one decryption
by the field (AES-GCM under the company's key) is printed against django-cryptography's (Fernet of a
pickle, under the single key it replaced), measured in the same run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
import types

from _bench_db import admin_client, bench_company, bench_database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    with bench_database():
        from django.conf import settings
        from django.db import connection, models
        from django.urls import path
        from django.utils import timezone
        from django_tenants.utils import tenant_context

        from crm.blind_index import blind_index
        from crm.models import Contact
        from gates.admin import GatedModelAdmin
        from gates.engine import gate_objects
        from staff.site import VastajaAdminSite
        from tenants.categories import personal_data

        class PlainContact(models.Model):
            """The same columns as crm.Contact, unencrypted: the baseline."""

            name = models.CharField(max_length=200)
            phone_number = models.CharField(max_length=20, blank=True)
            email = models.CharField(max_length=254, blank=True)
            address = models.TextField(blank=True)
            notes = models.TextField(blank=True)
            health_notes = models.TextField(blank=True)
            restricted = models.BooleanField(default=False)
            created_at = models.DateTimeField()

            class Meta:
                app_label = "crm"
                db_table = "bench_plain_contact"
                ordering = ["-created_at"]
                indexes = [models.Index(fields=["-created_at"], name="bench_plain_created_desc")]

            def __str__(self) -> str:
                return f"Contact #{self.pk}"

        personal_data(
            PlainContact,
            name="user.contact.name",
            phone_number="user.contact.phone_number",
            email="user.contact.email",
            address="user.contact.address",
            notes="user.content.private",
            health_notes="user.health",
        )
        gate_objects(PlainContact, open_unless="restricted")

        columns = ["__str__", "name", "phone_number", "email", "address", "notes", "created_at"]
        site = VastajaAdminSite(name="bench")
        site.register(Contact, type("EncryptedListAdmin", (GatedModelAdmin,), {"list_display": columns}))
        site.register(PlainContact, type("PlainListAdmin", (GatedModelAdmin,), {"list_display": columns}))
        urls = types.ModuleType("bench_public_urls")
        urls.urlpatterns = [path("admin/", site.urls)]
        sys.modules["bench_public_urls"] = urls
        settings.PUBLIC_SCHEMA_URLCONF = "bench_public_urls"

        company, people = bench_company(slug="lists", staff=("agent",), read_grants=("user.contact.name",))

        print(f"bench: {args.contacts:,} contacts, encrypted and plain ...", flush=True)
        with tenant_context(company):
            with connection.schema_editor() as editor:
                editor.create_model(PlainContact)
            now = timezone.now()
            encrypted, plain = [], []
            for i in range(args.contacts):
                row = {
                    "name": f"Caller {i}",
                    "phone_number": f"+3725{i:07d}",
                    "email": f"caller{i}@example.ee",
                    "address": f"Street {i}, Tallinn",
                    "notes": f"Notes about caller {i} " * 4,
                    "health_notes": f"Health remark {i}",
                }
                encrypted.append(Contact(**row, phone_bidx=blind_index(row["phone_number"])))
                plain.append(PlainContact(**row, created_at=now - dt.timedelta(seconds=i)))
            Contact.objects.bulk_create(encrypted, batch_size=5000)
            PlainContact.objects.bulk_create(plain, batch_size=5000)
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")

        client = admin_client(people["agent"], "lists")
        pages = {"encrypted": "/admin/crm/contact/", "plaintext": "/admin/crm/plaincontact/"}
        for url in pages.values():
            page = client.get(url)
            if page.status_code != 200 or b"Caller " not in page.content or b"+3725" in page.content:
                raise SystemExit(f"{url} did not show names only ({page.status_code})")
        # Count decryptions on one page: only the granted column of the rows shown may be decrypted.
        from tenants.crypto import EncryptedMixin

        loads, real_load = [], EncryptedMixin._load

        def counting_load(field, value):
            loads.append(field.name)
            return real_load(field, value)

        EncryptedMixin._load = counting_load
        try:
            client.get(pages["encrypted"])
        finally:
            EncryptedMixin._load = real_load
        decrypted = {name: loads.count(name) for name in sorted(set(loads))}
        import pickle

        from django_cryptography.utils.crypto import FernetBytes

        from tenants.crypto import legacy_decrypt, value_decrypt, value_encrypt

        with tenant_context(company):
            values = [f"Notes about caller {i} " * 4 for i in range(5000)]
            ours = [value_encrypt(v) for v in values]
            fernet = FernetBytes()
            theirs = [fernet.encrypt(pickle.dumps(v)) for v in values]
            per_value = {}
            kinds = (("AES-GCM field", ours, value_decrypt), ("django-cryptography", theirs, legacy_decrypt))
            for label, tokens, decrypt in kinds:
                start = time.perf_counter()
                for token in tokens:
                    decrypt(token)
                per_value[label] = (time.perf_counter() - start) / len(tokens)
        times: dict[str, list[float]] = {name: [] for name in pages}
        for _ in range(args.repeat):
            for name, url in pages.items():
                start = time.perf_counter()
                client.get(url)
                times[name].append(time.perf_counter() - start)

    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, value in medians.items():
        print(f"{name:>10} contact list page: {value * 1000:.1f} ms (median of {args.repeat})")
    print(f"ratio encrypted / plaintext: {medians['encrypted'] / medians['plaintext']:.2f}   (goal <= 1.2)")
    print(f"decryptions on one encrypted page, by field: {decrypted} (only the granted name column)")
    for label, seconds in per_value.items():
        print(f"one decryption, {label}: {seconds * 1e6:.1f} µs")


if __name__ == "__main__":
    main()
