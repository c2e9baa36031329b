from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context

from audit.checkpoints import checkpoint_line, checkpoint_take
from tenants.models import ClientCompany


class Command(BaseCommand):
    help = (
        "Sign each client company's audit chain head with AUDIT_SIGNING_KEY and store the checkpoint; "
        "with --out, also append it to FILE as one JSON line."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="only this client company (its slug)")
        parser.add_argument("--out", type=Path, help="append each checkpoint to this file, one JSON line each")

    def handle(self, *args, tenant: str | None, out: Path | None, **options):
        companies = ClientCompany.objects.filter(kind=ClientCompany.Kind.CLIENT).exclude(status="offboarded")
        if tenant:
            companies = companies.filter(schema_name=tenant)
            if not companies.exists():
                raise CommandError(f"no client company '{tenant}'")
        try:
            target = out.open("a", encoding="utf-8") if out else None
        except OSError as exc:
            raise CommandError(f"cannot write to {out}: {exc.strerror}") from None
        try:
            for company in companies.order_by("schema_name"):
                with tenant_context(company):
                    checkpoint = checkpoint_take()
                if checkpoint is None:
                    self.stdout.write(f"{company.schema_name}: no audit chain yet, nothing to sign")
                    continue
                if target:
                    target.write(checkpoint_line(checkpoint) + "\n")
                    target.flush()
                self.stdout.write(
                    f"{company.schema_name}: checkpoint at link {checkpoint.seq}, hash {checkpoint.head_hash[:16]}…, "
                    f"signed {checkpoint.signed_at:%Y-%m-%d %H:%M:%S} UTC"
                )
        finally:
            if target:
                target.close()
        if out:
            self.stdout.write(f"appended to {out}")
