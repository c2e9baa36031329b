import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context

from gates.context import system_context
from levels.rollup import levels_rollup
from tenants.selectors import client_list_active


def _day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"not a date (YYYY-MM-DD): {value!r}") from None


class Command(BaseCommand):
    help = "Recompute the service levels for a range of local days, for every client company or one."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="date_from", required=True, help="first local day, YYYY-MM-DD")
        parser.add_argument("--to", dest="date_to", required=True, help="last local day (inclusive), YYYY-MM-DD")
        parser.add_argument("--tenant", help="only this client company (its slug)")

    @system_context(reason="analytics rollup")
    def handle(self, *args, date_from: str, date_to: str, tenant: str | None, **options):
        start, end = _day(date_from), _day(date_to)
        if start > end:
            raise CommandError("--from is after --to")
        companies = client_list_active()
        if tenant:
            companies = companies.filter(schema_name=tenant)
            if not companies.exists():
                raise CommandError(f"no active client company '{tenant}'")
        companies = list(companies.order_by("schema_name"))
        for n, company in enumerate(companies, 1):
            self.stdout.write(f"[{n}/{len(companies)}] {company.schema_name} ({company.time_zone}):")
            with tenant_context(company):
                rows = levels_rollup(date_from=start, date_to=end, progress=self.stdout.write)
            self.stdout.write(f"  {rows} line-hours written")
