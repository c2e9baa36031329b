"""Shared set-up for the benchmarks: Django on a throw-away database of the configured server.

The benchmarks never touch the demo database. They create `vastaja_bench_<pid>` on the same
server (the embedded one, or DATABASE_URL's), migrate its public schema, and drop it at the end.
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


@contextmanager
def bench_database():
    import django
    from django.conf import settings

    django.setup()
    import psycopg
    from psycopg import sql

    db = dict(settings.DATABASES["default"])
    name = f"vastaja_bench_{os.getpid()}"
    admin = dict(host=db["HOST"] or None, port=db["PORT"] or None, user=db["USER"] or None,
                 password=db["PASSWORD"] or None, dbname="postgres", autocommit=True)  # fmt: skip
    with psycopg.connect(**admin) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    # No connection has been opened yet, so pointing the settings elsewhere is enough.
    settings.DATABASES["default"]["NAME"] = name
    try:
        from django.core.management import call_command

        print(f"bench: migrating the public schema of {name} ...", flush=True)
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
        yield name
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(**admin) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def timed(results: dict, key: str):
    start = time.perf_counter()
    yield
    results[key] = time.perf_counter() - start
