from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django_tenants.utils import tenant_context

from audit.chain import chain_verify
from audit.checkpoints import CheckpointFileError, checkpoints_parse, checkpoints_verify
from audit.sealing import seal_lag, unchained_rows
from gates.context import system_context
from tenants.models import ClientCompany
from tenants.signing import public_key
from tenants.timezones import company_zone_of


class Command(BaseCommand):
    help = (
        "Walk each client company's audit hash chain and report the first break, entries left unsealed "
        "past AUDIT_SEAL_MAX_DELAY_SECONDS, and audit rows neither chained nor queued; with --checkpoints, "
        "also check it against signed checkpoints kept elsewhere."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="only this client company (its slug)")
        parser.add_argument(
            "--checkpoints",
            type=Path,
            metavar="FILE",
            help="checkpoints kept outside the database (JSON lines, as audit_checkpoint --out writes them)",
        )

    @system_context(reason="verify the audit chain")
    def handle(self, *args, tenant: str | None, checkpoints: Path | None, **options):
        companies = ClientCompany.objects.filter(kind=ClientCompany.Kind.CLIENT).exclude(status="offboarded")
        if tenant:
            companies = companies.filter(schema_name=tenant)
            if not companies.exists():
                raise CommandError(f"no client company '{tenant}'")
        by_company = self._checkpoints(checkpoints, tenant) if checkpoints else None
        broken = []
        for company in companies.order_by("schema_name"):
            with tenant_context(company):
                checked, failure = chain_verify()
                lag = seal_lag()
                unchained = unchained_rows()
                if by_company is not None:
                    mine = by_company.pop(company.schema_name, [])
                    signed, mismatch = checkpoints_verify(mine, public_key())
            slug = company.schema_name
            errors = []
            if failure is not None:
                broken.append(f"{slug} at link {failure.seq}")
                errors.append(
                    f"{slug}: BROKEN at link {failure.seq} ({failure.kind} entry {failure.ref_id}): {failure.reason}"
                )
            if lag.first_overdue is not None:
                kind, ref, queued_at = lag.first_overdue
                queued = timezone.localtime(queued_at, company_zone_of(company))
                limit = settings.AUDIT_SEAL_MAX_DELAY_SECONDS
                broken.append(f"{slug} (entries unsealed too long)")
                errors.append(
                    f"{slug}: {lag.overdue:,} entries unsealed for longer than {limit} s, the first {kind} entry "
                    f"{ref}, queued {queued:%Y-%m-%d %H:%M:%S %Z} ({lag.oldest_seconds:,.0f} s ago): "
                    "is the sealer (beat's audit.seal) running?"
                )
            if unchained:
                broken.append(f"{slug} (entries neither chained nor queued)")
            for kind, ref in unchained:
                errors.append(f"{slug}: {kind} entry {ref} is neither in the chain nor waiting to be sealed")
            for error in errors:
                self.stdout.write(self.style.ERROR(error))
            if not errors:
                waiting = (
                    f"; {lag.waiting:,} waiting to be sealed (oldest {lag.oldest_seconds:,.0f} s)"
                    if lag.waiting
                    else ""
                )
                self.stdout.write(f"{slug}: {checked:,} entries, chain intact{waiting}")
            if by_company is None:
                continue
            if not signed:
                self.stdout.write(f"{slug}: no checkpoint of this company in {checkpoints}")
            elif mismatch is None:
                self.stdout.write(
                    f"{slug}: {signed:,} checkpoint{'s' if signed != 1 else ''}, "
                    "each signed with the configured key and still in the chain"
                )
            else:
                broken.append(f"{slug} at checkpoint link {mismatch.seq}")
                self.stdout.write(
                    self.style.ERROR(
                        f"{slug}: the checkpoint at link {mismatch.seq} (line {mismatch.line} of "
                        f"{checkpoints}) NO LONGER MATCHES: {mismatch.reason}"
                    )
                )
        for slug, lines in sorted((by_company or {}).items()):
            broken.append(f"{slug} (not a client company here)")
            self.stdout.write(
                self.style.ERROR(f"{slug}: {len(lines)} checkpoints name a company that is not a client company here")
            )
        if broken:
            raise CommandError(f"the audit trail does not verify: {', '.join(broken)}")

    def _checkpoints(self, path: Path, tenant: str | None) -> dict[str, list]:
        try:
            with path.open(encoding="utf-8") as lines:
                parsed = checkpoints_parse(lines)
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise CommandError(f"{path}: not a checkpoint file (not UTF-8 text)") from None
        except CheckpointFileError as exc:
            raise CommandError(f"{path}: {exc}") from None
        if not parsed:
            raise CommandError(f"{path}: holds no checkpoints")
        by_company: dict[str, list] = {}
        for checkpoint in parsed:
            if tenant is None or checkpoint.company == tenant:
                by_company.setdefault(checkpoint.company, []).append(checkpoint)
        offboarded = ClientCompany.objects.filter(schema_name__in=by_company, status="offboarded")
        for slug in offboarded.values_list("schema_name", flat=True):
            self.stdout.write(f"{slug}: offboarded, its chain is gone; its checkpoints are not checked")
            del by_company[slug]
        return by_company
