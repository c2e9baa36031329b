"""Where the database is: the DATABASE_URL server, or an embedded PostgreSQL in the checkout.

With DATABASE_URL unset, `pgserver` runs PostgreSQL 16 from its wheel in `.vastaja/pgdata`
(git-ignored, reused across runs) and we connect over its Unix socket. Every process that imports
the settings (web, worker, beat, tests) takes a handle on the same server; it stops when the last
one exits.
"""

from __future__ import annotations

import logging
import sys
import warnings
from pathlib import Path
from urllib.parse import parse_qs, urlparse

EMBEDDED_DB_NAME = "vastaja"
# pgserver narrates every start and stop at INFO; only its problems are worth showing.
logging.getLogger("pgserver").setLevel(logging.WARNING)


def embedded_database(data_dir: Path) -> dict:
    """Start (or join) the embedded server and return a Django DATABASES entry for it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = data_dir / "pgdata"
    if not (pgdata / "PG_VERSION").exists():
        print(f"vastaja: initialising the embedded PostgreSQL in {pgdata} (first run only)", file=sys.stderr)
    # pgserver keeps its lock in the user's runtime dir; where XDG_RUNTIME_DIR is unset (CI, root
    # shells) platformdirs falls back to /tmp with a warning on every start. The fallback is fine.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    try:
        import pgserver
    except ImportError:  # pragma: no cover - requirements.txt installs it
        raise SystemExit("error: DATABASE_URL is unset and the 'pgserver' package is not installed") from None
    try:
        server = pgserver.get_server(pgdata, cleanup_mode="stop")
    except Exception as exc:  # pgserver raises bare subprocess errors; say what failed, in one line
        raise SystemExit(f"error: could not start the embedded PostgreSQL in {pgdata}: {exc}") from None
    uri = urlparse(server.get_uri())
    socket_dir = parse_qs(uri.query)["host"][0]
    _ensure_database(socket_dir, EMBEDDED_DB_NAME)
    return {
        "ENGINE": "django_tenants.postgresql_backend",
        "NAME": EMBEDDED_DB_NAME,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": socket_dir,
        "PORT": "",
    }


def _ensure_database(socket_dir: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(host=socket_dir, user="postgres", dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def describe(settings_dict: dict) -> str:
    """A one-line, password-free description of a DATABASES entry, for error messages."""
    host = settings_dict.get("HOST") or "localhost"
    port = settings_dict.get("PORT")
    where = f"{host}:{port}" if port else host
    return f"{where}/{settings_dict.get('NAME')}"
