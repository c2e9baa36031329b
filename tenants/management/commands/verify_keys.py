"""verify_keys [--tenant acme]: which rows and files, if any, are still on an old key."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context

from tenants import keys
from tenants.management.commands.rotate_keys import companies
from tenants.models import CompanyKey
from tenants.rekey import company_stale


class Command(BaseCommand):
    help = "Report every row and file not on its company's active key, and every key not wrapped by the first KEK."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="only this company (its slug)")

    def handle(self, *args, tenant=None, **options):
        problems = 0
        first = keys.kek_fingerprint(keys.kek_list()[0])
        try:
            for company in companies(tenant):
                with tenant_context(company):
                    stale = company_stale(company.pk)
                for what, count in sorted(stale.items()):
                    self.stdout.write(f"{company.schema_name}: {count} {what}")
                rewrap = (
                    CompanyKey.objects.filter(company=company)
                    .exclude(state=CompanyKey.State.DESTROYED)
                    .exclude(kek_id=first)
                    .count()
                )
                if rewrap:
                    self.stdout.write(f"{company.schema_name}: {rewrap} keys not wrapped by the first KEK ({first})")
                problems += sum(stale.values()) + rewrap
                if not stale and not rewrap:
                    self.stdout.write(f"{company.schema_name}: every row and file on its active keys")
        except keys.KeyUnavailable as exc:
            raise CommandError(str(exc)) from None
        if problems:
            raise CommandError(f"{problems} left on an old key: run rotate_keys")
        self.stdout.write("none left")
