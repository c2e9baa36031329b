from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context

from audit.sealing import BATCH, audit_seal
from tenants.models import ClientCompany


class Command(BaseCommand):
    help = "Link each client company's queued audit rows into its hash chain (what beat's audit.seal does)."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="only this client company (its slug)")
        parser.add_argument("--batch", type=int, default=BATCH, help=f"rows per transaction (default {BATCH})")

    def handle(self, *args, tenant: str | None, batch: int, **options):
        if batch < 1:
            raise CommandError("--batch must be at least 1")
        # Suspended companies too: their schema, and any rows written before the suspension, remain.
        companies = ClientCompany.objects.filter(kind=ClientCompany.Kind.CLIENT).exclude(status="offboarded")
        if tenant:
            companies = companies.filter(schema_name=tenant)
            if not companies.exists():
                raise CommandError(f"no client company '{tenant}'")
        for company in companies.order_by("schema_name"):
            with tenant_context(company):
                report = audit_seal(
                    batch=batch,
                    progress=lambda r, slug=company.schema_name: self.stdout.write(
                        f"  {slug}: batch {r.batches}, {r.sealed:,} sealed so far"
                    ),
                )
            line = f"{company.schema_name}: {report.sealed:,} entries sealed in {report.batches} batches"
            if report.already:
                line += f"; {report.already:,} queued again were in the chain already"
            self.stdout.write(line)
            for kind, ref in report.missing:
                self.stdout.write(self.style.ERROR(f"{company.schema_name}: queued {kind} entry {ref} is missing"))
