"""Through a real PgBouncer (tests/pgbouncer.py), in front of the test database's own server.

- Session mode, a pool of ONE server connection: a gunicorn of the app's own, several threads,
  serves acme's and globex's API requests interleaved from several client threads, so every
  request of both companies runs on the same server process one after the other. No response of
  one company holds any of the other's seeded values.
- Transaction (and statement) mode: the app refuses to start (ASGI under daphne, WSGI, `migrate`,
  `check --database`), naming `pool_mode = session`; in session mode the same commands start.
"""

from __future__ import annotations

import http.client
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from demo.processes import in_subprocess_env
from tenants.pooling import SETTING, pooling_evidence
from tests.cleanup import audit_rows_removed_after
from tests.pgbouncer import OwnPgBouncer, free_port, requires_pgbouncer

pytestmark = requires_pgbouncer

ROOT = Path(__file__).resolve().parent.parent
CLIENT_THREADS = 4
REQUESTS_PER_THREAD = 16
GUNICORN_ARGS = ["--workers", "1", "--threads", "4", "--timeout", "120"]
PATHS = ["/api/v1/lines/", "/api/v1/contacts/"]


def _env(bouncer: OwnPgBouncer) -> dict:
    env = in_subprocess_env(connection.settings_dict)
    env.update(DATABASE_URL=bouncer.url, DB_CONN_MAX_AGE="0", DJANGO_ENV="development", LOG_LEVEL="WARNING")
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    return env


def _console_rows(bouncer: OwnPgBouncer, command: str) -> list[dict[str, str]]:
    """Rows of a PgBouncer console command for the test database (the console speaks the simple
    query protocol only, hence libpq's exec_)."""
    import psycopg

    with psycopg.connect(
        host="127.0.0.1", port=bouncer.port, dbname="pgbouncer", user=bouncer.user, autocommit=True
    ) as console:
        result = console.pgconn.exec_(command.encode())
        names = [result.fname(i).decode() for i in range(result.nfields)]
        rows = [
            {name: (result.get_value(r, i) or b"").decode() for i, name in enumerate(names)}
            for r in range(result.ntuples)
        ]
    return [row for row in rows if row["database"] == bouncer.dbname]


def _server_stats(bouncer: OwnPgBouncer) -> tuple[int, int]:
    """(transactions served, server connections open) for the test database."""
    xacts = sum(int(row["total_xact_count"]) for row in _console_rows(bouncer, "SHOW STATS"))
    pools = _console_rows(bouncer, "SHOW POOLS")
    servers = sum(int(value) for row in pools for key, value in row.items() if key.startswith("sv_"))
    return xacts, servers


SEEDED_CONTACTS = 3


@pytest.fixture
def seeded(live_db) -> dict[str, set[str]]:
    """Each company's own values, committed so the web process sees them: its lines' names and
    numbers, and a few contacts whose names and numbers no other company holds (the suite's demo
    world has no calls or messages, and its contacts repeat across companies). Removed after."""
    import uuid

    from answering.models import Line
    from crm.models import Contact
    from crm.services import contact_create

    values, made = {}, {}
    with audit_rows_removed_after("acme", "globex"):
        for offset, slug in enumerate(("acme", "globex")):
            with schema_context(slug):
                lines = list(Line.objects.all())
                values[slug] = {line.name for line in lines} | {line.phone_number for line in lines}
                made[slug] = []
                for n in range(SEEDED_CONTACTS):
                    name = f"Pooled {slug.title()} Caller {uuid.uuid4().hex[:8]}"
                    number = f"+3725{offset}{uuid.uuid4().int % 100000:05d}{n}"
                    made[slug].append(contact_create(name=name, phone_number=number, actor=None).pk)
                    values[slug] |= {name, number}
        try:
            yield values
        finally:
            for slug, pks in made.items():
                with schema_context(slug):
                    Contact.objects.filter(pk__in=pks).delete()


@pytest.fixture
def company_tokens(live_db, seeded):
    from api.tokens.models import ApiToken
    from api.tokens.scopes import ALL_SCOPES
    from api.tokens.services import token_create
    from tenants.models import ClientCompany, User

    made, secrets = [], {}
    for slug in ("acme", "globex"):
        company = ClientCompany.objects.get(schema_name=slug)
        admin = User.objects.get(username=f"{slug}-admin")
        token, secret = token_create(
            company=company, user=admin, name="pgbouncer", scopes=ALL_SCOPES, expires_in_days=1, actor=admin
        )
        made.append(token.pk)
        secrets[slug] = secret
    try:
        yield secrets
    finally:
        ApiToken.objects.filter(pk__in=made).delete()


def _get(port: int, host: str, path: str, token: str) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path, headers={"Host": host, "Authorization": f"Bearer {token}"})
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def _start_gunicorn(env: dict, log) -> tuple[subprocess.Popen, int]:
    port = free_port()
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}", *GUNICORN_ARGS],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 90
    while True:
        assert web.poll() is None, f"gunicorn exited: {Path(log.name).read_text()[-3000:]}"
        try:
            if _get(port, "localhost", "/health/", "")[0] in (200, 503):
                return web, port
        except OSError:
            pass
        assert time.monotonic() < deadline, "gunicorn did not answer within 90 s"
        time.sleep(0.3)


def test_two_companies_interleaved_on_one_session_pooled_connection_never_see_each_other(
    seeded, company_tokens, tmp_path
):
    acme_values, globex_values = seeded["acme"], seeded["globex"]
    shared = acme_values & globex_values
    acme_values, globex_values = acme_values - shared, globex_values - shared
    assert acme_values
    assert globex_values
    others = {"acme": globex_values, "globex": acme_values}
    own = {"acme": acme_values, "globex": globex_values}

    with OwnPgBouncer(connection.settings_dict, mode="session", pool_size=1) as bouncer:
        before, _ = _server_stats(bouncer)
        log = open(tmp_path / "gunicorn.log", "w+")  # noqa: SIM115 - closed below, after the process
        web = None
        try:
            web, port = _start_gunicorn(_env(bouncer), log)
            seen, failures, lock = {"acme": 0, "globex": 0}, [], threading.Lock()

            def client(index: int) -> None:
                for n in range(REQUESTS_PER_THREAD):
                    slug = ("acme", "globex")[(index + n) % 2]
                    path = PATHS[n % len(PATHS)]
                    status, body = _get(port, f"{slug}.localhost", path, company_tokens[slug])
                    leaked = sorted(value for value in others[slug] if value in body)
                    with lock:
                        if status != 200:
                            failures.append(f"{slug} {path}: {status} {body[:200]}")
                        elif leaked:
                            failures.append(f"{slug} {path} holds the other company's {leaked[:3]}")
                        elif not any(value in body for value in own[slug]):
                            failures.append(f"{slug} {path} holds none of its own rows: {body[:200]}")
                        else:
                            seen[slug] += 1

            threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENT_THREADS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=300)
            assert not any(thread.is_alive() for thread in threads), "client threads still running after 300 s"
            after, servers = _server_stats(bouncer)
        finally:
            if web is not None:
                web.terminate()
                web.wait(timeout=20)
            log.close()

    total = CLIENT_THREADS * REQUESTS_PER_THREAD
    print(f"pgbouncer session mode, pool of 1: {seen['acme']} acme and {seen['globex']} globex requests, ", end="")
    print(f"{after - before} transactions, {servers} server connection(s)")
    assert failures == []
    assert seen == {"acme": total // 2, "globex": total // 2}
    # Every request went through the bouncer, on the pool's one server connection.
    assert servers == 1
    assert after - before >= total


def _manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def _daphne(env: dict) -> tuple[int | None, str]:
    """Start daphne on the ASGI application: (its exit code if it exited within 60 s, its output)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    try:
        while process.poll() is None and time.monotonic() < deadline:
            try:
                if _get(port, "localhost", "/health/", "")[0] in (200, 503):
                    break
            except OSError:
                time.sleep(0.3)
        code = process.poll()
    finally:
        if process.poll() is None:
            process.terminate()
        output = process.communicate(timeout=20)[0]
    return code, output


@pytest.mark.parametrize("mode", ["transaction", "statement"])
def test_transaction_pooling_is_refused_at_start_naming_the_setting(db, mode):
    with OwnPgBouncer(connection.settings_dict, mode=mode, pool_size=2) as bouncer:
        assert pooling_evidence(bouncer.settings_dict) is not None
        env = _env(bouncer)
        checked = _manage(env, "check", "--database", "default")
        assert checked.returncode != 0
        assert SETTING in checked.stderr
        assert "django-tenants issue 447" in checked.stderr
        migrated = _manage(env, "migrate", "--check")
        assert migrated.returncode != 0
        assert SETTING in migrated.stderr
        code, output = _daphne(env)
        assert code is not None, "daphne served behind transaction pooling"
        assert code != 0
        assert SETTING in output
        wsgi = subprocess.run(
            [sys.executable, "-c", "import config.wsgi"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert wsgi.returncode != 0
        assert SETTING in wsgi.stderr


def test_session_pooling_and_postgresql_itself_start(db):
    assert pooling_evidence(connection.settings_dict) is None
    with OwnPgBouncer(connection.settings_dict, mode="session", pool_size=2) as bouncer:
        assert pooling_evidence(bouncer.settings_dict) is None
        env = _env(bouncer)
        checked = _manage(env, "check", "--database", "default")
        assert checked.returncode == 0, checked.stderr
        code, output = _daphne(env)
        assert code is None, f"daphne exited behind session pooling: {output[-2000:]}"


def test_a_full_session_pool_is_not_mistaken_for_transaction_pooling(db):
    """With one server connection the probe's second client queues behind the first: no
    evidence, and the probe does not hang."""
    with OwnPgBouncer(connection.settings_dict, mode="session", pool_size=1) as bouncer:
        assert pooling_evidence(bouncer.settings_dict) is None
        assert _server_stats(bouncer)[1] == 1
