from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context

from audit.retention import retention_purge
from gates.context import system_context
from tenants.selectors import client_list_active


class Command(BaseCommand):
    help = "Purge what each client company's DPA lets the provider keep no longer (the daily job, by hand)."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="only this client company (its slug)")
        parser.add_argument("--dry-run", action="store_true", help="count what would go, change nothing")

    @system_context(reason="retention purge")
    def handle(self, *args, tenant: str | None, dry_run: bool, **options):
        companies = client_list_active()
        if tenant:
            companies = companies.filter(schema_name=tenant)
            if not companies.exists():
                raise CommandError(f"no active client company '{tenant}'")
        for company in companies.order_by("schema_name"):
            self.stdout.write(f"{company.schema_name}{' (dry run)' if dry_run else ''}:")
            with tenant_context(company):
                run = retention_purge(dry_run=dry_run, progress=self.stdout.write)
            report = run.report
            self.stdout.write(f"  purged: {report['purged'] or 'nothing'}; held: {report['held'] or 'nothing'}")
            if report.get("policy", "").startswith("no DPA"):
                self.stdout.write(f"  {report['policy']}")
