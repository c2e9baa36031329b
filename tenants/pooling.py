"""Refuse to run behind a connection pooler that does not pin a server connection to a client.

django-tenants selects a company's schema with a session-level `SET search_path` and (with
`TENANT_LIMIT_SET_CALLS`) does not repeat it while the schema is unchanged. PgBouncer in
transaction or statement mode hands each transaction to whichever server connection is free, so
a request would run in the schema another request set (django-tenants issue 447). Only
`pool_mode = session` is safe.

A client cannot ask PgBouncer for its pool mode (`SHOW pool_mode` is for its admin console, to
admin and stats users only), so the probe watches what the mode does. Connection A sets a
marked `search_path` and notes its server process (`pg_backend_pid()`); then, while A is still
open and idle, a second connection B asks for its own server process and search path, and A asks
again for its search path. In session mode, and on PostgreSQL itself, an open client connection
owns its server process: B never gets A's process, never sees A's marker, and A never loses it.
Any of the three is proof that server connections move between clients. PgBouncer reuses the
most recently freed server first (`server_round_robin = 0`, its default), so in transaction mode
B gets A's process in the first round; the probe repeats a few rounds for a busy pool or round
robin. It can miss (a pool busy enough to keep A's process from B in every round) but never
refuses a set-up that pins connections. If the pool is full, B waits: the probe gives B a few
seconds, then closes A, and a B served only after that is no evidence.
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass, field

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

ROUNDS = 3
# How long B may wait for a server while A holds one: a full session pool makes B queue.
QUEUE_WAIT_SECONDS = 3.0
SETTING = "pool_mode = session"
DOCS = "docs/operations.md#connection-pooling-and-scaling"


def _connect_kwargs(settings_dict: dict) -> dict:
    options = settings_dict.get("OPTIONS") or {}
    kwargs = {
        "dbname": settings_dict.get("NAME") or "postgres",
        "user": settings_dict.get("USER") or None,
        "password": settings_dict.get("PASSWORD") or None,
        "host": settings_dict.get("HOST") or None,
        "port": settings_dict.get("PORT") or None,
        "connect_timeout": options.get("connect_timeout", 5),
        "autocommit": True,
        "application_name": "vastaja-pooling-probe",
    }
    return {key: value for key, value in kwargs.items() if value is not None}


@dataclass
class _Other:
    """Connection B's answer, and whether it came while A was still open."""

    pid: int | None = None
    search_path: str = ""
    while_a_open: bool = False
    error: str = ""
    done: threading.Event = field(default_factory=threading.Event)


def _ask_other(kwargs: dict, state: dict, lock: threading.Lock, answer: _Other) -> None:
    import psycopg

    try:
        with psycopg.connect(**kwargs) as other:
            pid, search_path = other.execute("SELECT pg_backend_pid(), current_setting('search_path')").fetchone()
            with lock:
                answer.pid, answer.search_path, answer.while_a_open = pid, search_path, state["a_open"]
    except Exception as exc:  # a refused or dropped second connection is no evidence either way
        answer.error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    finally:
        answer.done.set()


def pooling_evidence(settings_dict: dict) -> str | None:
    """What shows that this database's server connections move between client connections (a
    pooler in transaction or statement mode), or None if nothing does. Raises psycopg's
    OperationalError when the database cannot be reached at all."""
    import psycopg

    kwargs = _connect_kwargs(settings_dict)
    for _ in range(ROUNDS):
        marker = f"vastaja_probe_{uuid.uuid4().hex[:12]}"
        state, lock, answer = {"a_open": True}, threading.Lock(), _Other()
        first = psycopg.connect(**kwargs)
        try:
            first.execute(f'SET search_path TO "{marker}", public')
            (pid,) = first.execute("SELECT pg_backend_pid()").fetchone()
            asker = threading.Thread(target=_ask_other, args=(kwargs, state, lock, answer), daemon=True)
            asker.start()
            served = answer.done.wait(QUEUE_WAIT_SECONDS)
            if served and answer.while_a_open:
                if answer.pid == pid:
                    return f"a second client connection was served by the first one's server process ({pid})"
                if marker in answer.search_path:
                    return "a second client connection saw the search_path the first one had set"
                (kept,) = first.execute("SELECT current_setting('search_path')").fetchone()
                if marker not in kept:
                    return "a session-level SET search_path was gone at the connection's next statement"
        finally:
            with lock:
                state["a_open"] = False
            first.close()
        if not served:
            # B queued behind A: the pool pins servers to clients (or is full). Let B finish.
            answer.done.wait(QUEUE_WAIT_SECONDS)
            return None
    return None


def _where(settings_dict: dict) -> str:
    host = settings_dict.get("HOST") or "localhost"
    port = settings_dict.get("PORT")
    return f"{host}:{port}/{settings_dict.get('NAME')}" if port else f"{host}/{settings_dict.get('NAME')}"


_verdicts: dict[tuple, str | None] = {}


def refusal(settings_dict: dict) -> str | None:
    """Why this process must not run against this database, in one paragraph, or None when the
    connection is safe or cannot be reached (the outage handling answers for that). Probed once
    per process and database: migrate_schemas runs the check once per schema."""
    import psycopg

    key = tuple(str(settings_dict.get(name)) for name in ("HOST", "PORT", "NAME", "USER"))
    if key not in _verdicts:
        try:
            evidence = pooling_evidence(settings_dict)
        except psycopg.OperationalError as exc:
            logger.warning("pooling probe skipped: the database cannot be reached (%s)", str(exc).strip()[:200])
            return None
        _verdicts[key] = evidence and (
            f"refusing to run: the database {_where(settings_dict)} is behind a connection pooler in "
            f"transaction or statement mode ({evidence}). django-tenants selects each company's schema "
            "with a session-level SET search_path (django-tenants issue 447), so requests would run in "
            f"another company's schema. Set `{SETTING}` in pgbouncer.ini; see {DOCS}."
        )
    return _verdicts[key]


def refuse_transaction_pooling() -> None:
    """For the entry points (ASGI, WSGI, the Celery worker): raise before serving anything."""
    from django.db import connection

    reason = refusal(connection.settings_dict)
    if reason:
        raise ImproperlyConfigured(reason)


def check_session_pooling(app_configs=None, databases=None, **kwargs) -> list[checks.CheckMessage]:
    """System check (tag `database`, so `migrate`, `migrate_schemas` and `check --database`
    run it): an error when the database is behind transaction or statement pooling."""
    from django.db import connections

    errors = []
    for alias in databases or ():
        reason = refusal(connections[alias].settings_dict)
        if reason:
            errors.append(checks.Error(reason, hint=f"Set `{SETTING}` in pgbouncer.ini.", id="tenants.E001"))
    return errors
