from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django_tenants.utils import tenant_context

from audit.chain import chain_verify
from audit.sealing import seal_lag, unchained_rows
from gates.context import system_context
from tenants.models import ClientCompany
from tenants.timezones import company_zone_of


class Command(BaseCommand):
    help = (
        "Walk each client company's audit hash chain and report the first break, entries left unsealed "
        "past AUDIT_SEAL_MAX_DELAY_SECONDS, and audit rows neither chained nor queued."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="only this client company (its slug)")

    @system_context(reason="verify the audit chain")
    def handle(self, *args, tenant: str | None, **options):
        companies = ClientCompany.objects.filter(kind=ClientCompany.Kind.CLIENT).exclude(status="offboarded")
        if tenant:
            companies = companies.filter(schema_name=tenant)
            if not companies.exists():
                raise CommandError(f"no client company '{tenant}'")
        broken = []
        for company in companies.order_by("schema_name"):
            with tenant_context(company):
                checked, failure = chain_verify()
                lag = seal_lag()
                unchained = unchained_rows()
            slug = company.schema_name
            errors = []
            if failure is not None:
                errors.append(
                    f"{slug}: BROKEN at link {failure.seq} ({failure.kind} entry {failure.ref_id}): {failure.reason}"
                )
            if lag.first_overdue is not None:
                kind, ref, queued_at = lag.first_overdue
                queued = timezone.localtime(queued_at, company_zone_of(company))
                limit = settings.AUDIT_SEAL_MAX_DELAY_SECONDS
                errors.append(
                    f"{slug}: {lag.overdue:,} entries unsealed for longer than {limit} s, the first {kind} entry "
                    f"{ref}, queued {queued:%Y-%m-%d %H:%M:%S %Z} ({lag.oldest_seconds:,.0f} s ago): "
                    "is the sealer (beat's audit.seal) running?"
                )
            for kind, ref in unchained:
                errors.append(f"{slug}: {kind} entry {ref} is neither in the chain nor waiting to be sealed")
            if errors:
                broken.append(slug)
                for error in errors:
                    self.stdout.write(self.style.ERROR(error))
                continue
            waiting = (
                f"; {lag.waiting:,} waiting to be sealed (oldest {lag.oldest_seconds:,.0f} s)" if lag.waiting else ""
            )
            self.stdout.write(f"{slug}: {checked:,} entries, chain intact{waiting}")
        if broken:
            raise CommandError(f"the audit trail fails verification in: {', '.join(broken)}")
