from django.core.management.base import BaseCommand, CommandError

from gates.context import system_context
from operations.backups.archive import BackupError
from operations.backups.restore import tenant_restore


class Command(BaseCommand):
    help = (
        "Restore a client company's backup, in place or into a new schema, in one transaction; erasures and "
        "retention purges logged after the backup was taken are applied again."
    )

    def add_arguments(self, parser):
        parser.add_argument("backup", help="the backup file")
        where = parser.add_mutually_exclusive_group(required=True)
        where.add_argument("--in-place", action="store_true", help="replace the company's live data with the backup")
        where.add_argument("--into-schema", metavar="NEW", help="restore into this new schema (served by no host)")
        parser.add_argument("--tenant", help="the company you mean to restore: a backup of any other is refused")

    @system_context(reason="back up or restore a company")
    def handle(self, *args, backup: str, in_place: bool, into_schema: str | None, tenant: str | None, **options):
        try:
            handle = open(backup, "rb")  # noqa: SIM115 - closed below, after the restore
        except OSError as exc:
            raise CommandError(f"cannot read {backup}: {exc.strerror}") from None
        try:
            with handle:
                tenant_restore(
                    handle=handle, in_place=in_place, into_schema=into_schema, tenant=tenant, progress=self.stdout.write
                )
        except BackupError as exc:
            raise CommandError(str(exc)) from None
