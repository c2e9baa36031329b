from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context

from audit.chain import chain_verify
from gates.context import system_context
from tenants.models import ClientCompany


class Command(BaseCommand):
    help = "Walk each client company's audit hash chain and report the first break."

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
            if failure is None:
                self.stdout.write(f"{company.schema_name}: {checked:,} entries, chain intact")
            else:
                broken.append(company.schema_name)
                self.stdout.write(
                    self.style.ERROR(
                        f"{company.schema_name}: BROKEN at link {failure.seq} ({failure.kind} entry {failure.ref_id}): "
                        f"{failure.reason}"
                    )
                )
        if broken:
            raise CommandError(f"the audit chain is broken in: {', '.join(broken)}")
