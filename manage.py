#!/usr/bin/env python
"""Django's command-line utility, with one-line errors for an unreachable database."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line
    from django.db.utils import OperationalError

    try:
        execute_from_command_line(sys.argv)
    except OperationalError as exc:
        from django.db import connection

        from config.database import describe

        reason = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]
        if "connect" not in reason.lower():
            raise
        sys.exit(f"error: cannot reach the database at {describe(connection.settings_dict)}: {reason}")


if __name__ == "__main__":
    main()
