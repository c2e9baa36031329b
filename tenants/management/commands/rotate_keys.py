"""rotate_keys [--tenant acme] [--kek] [--batch 500]: see tenants/rekey.py and docs/operations.md."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context

from tenants import keys
from tenants.models import ClientCompany
from tenants.rekey import company_rotate, company_stale, keks_rewrap


def companies(slug: str | None) -> list[ClientCompany]:
    found = ClientCompany.objects.filter(kind=ClientCompany.Kind.CLIENT).exclude(status=ClientCompany.Status.OFFBOARDED)
    if slug:
        found = found.filter(schema_name=slug)
        if not found:
            raise CommandError(f"there is no client company '{slug}' in service")
    return list(found.order_by("schema_name"))


class Command(BaseCommand):
    help = (
        "Rotate keys without downtime: --kek wraps every company key again under the first "
        "KEY_ENCRYPTION_KEY; otherwise each company gets new field and file keys and its rows and "
        "files are re-encrypted in batches, blind indexes recomputed. Safe to kill and run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="only this company (its slug)")
        parser.add_argument("--kek", action="store_true", help="wrap the company keys again under the first KEK")
        parser.add_argument("--batch", type=int, default=500, help="rows per transaction (default 500)")

    def handle(self, *args, tenant=None, kek=False, batch=500, **options):
        if batch < 1:
            raise CommandError("--batch must be at least 1")
        chosen = companies(tenant)
        say = self.stdout.write
        try:
            if kek:
                done = keks_rewrap(company_ids=[c.pk for c in chosen] if tenant else None, progress=say)
                say(f"{done} keys wrapped again under KEK {keys.kek_fingerprint(keys.kek_list()[0])}; 0 left")
                return
            for company in chosen:
                say(f"{company.schema_name}: rotating its field and file keys")
                with tenant_context(company):
                    moved = company_rotate(company_id=company.pk, batch=batch, progress=say)
                    left = sum(company_stale(company.pk).values())
                say(f"{company.schema_name}: {moved['rows']} rows and {moved['files']} files re-encrypted; {left} left")
        except keys.KeyUnavailable as exc:
            raise CommandError(str(exc)) from None
