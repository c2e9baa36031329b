import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from gates.context import system_context
from operations.backups.archive import BackupError
from operations.backups.backup import backup_default_name, tenant_backup


class Command(BaseCommand):
    help = "Write an encrypted backup of one client company's schema and its files (key: BACKUP_ENCRYPTION_KEY)."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="the client company's slug, e.g. acme")
        parser.add_argument("--output", help="where to write it (default: ./<slug>-<UTC time>.vastaja-backup)")

    @system_context(reason="back up or restore a company")
    def handle(self, *args, slug: str, output: str | None, **options):
        path = Path(output or backup_default_name(slug))
        if path.exists():
            raise CommandError(f"{path} already exists: a backup never overwrites a file")
        if not path.parent.is_dir():
            raise CommandError(f"{path.parent} is not a directory")
        partial = path.with_name(path.name + ".partial")
        try:
            # Owner-only from the start; written under a temporary name so a failed run leaves no
            # file that looks like a backup.
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as exc:
            raise CommandError(f"cannot write {partial}: {exc.strerror}") from None
        try:
            with os.fdopen(fd, "wb") as handle:
                tenant_backup(slug=slug, handle=handle, progress=self.stdout.write)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(partial, path)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        finally:
            if partial.exists():
                partial.unlink()
        self.stdout.write(f"written: {path}")
