"""Stop PostgreSQL under requests: the portal answers 503 HTML, the API 503 JSON with Retry-After,
nothing answers 500; start it again and the same web process answers 200, with no restart.

The test runs its own PostgreSQL (pgserver's binaries, a data folder of its own under `.vastaja/`,
on a Unix socket only) and its own gunicorn on a free loopback port, with DEBUG on, migrated and
seeded with one client company. It never touches the machine's PostgreSQL or Redis, nor the
suite's own database. Every wait is bounded.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from django.conf import settings

from demo.processes import in_subprocess_env

ROOT = Path(__file__).resolve().parent.parent
HOST = "outage.localhost"
PORTAL_PAGES = ["/", "/calls/", "/messages/", "/access-log/?date_to=2026-01-31"]
API_PATHS = ["/api/v1/calls/", "/api/v1/lines/", "/api/v1/access-log/"]

SEED = f"""
import json
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from api.tokens.scopes import ALL_SCOPES
from api.tokens.services import token_create
from portal.middleware import SESSION_SCHEMA_KEY
from tenants.models import Membership, User
from tenants.services import client_onboard

company = client_onboard(slug="outage", name="Outage Ltd", domain="{HOST}")
connection.set_schema_to_public()
admin = User.objects.create_user("outage-admin", password="outage-pass-123")
Membership.objects.create(user=admin, company=company, role=Membership.Role.CLIENT_ADMIN)
_, token = token_create(company=company, user=admin, name="outage", scopes=ALL_SCOPES, expires_in_days=1, actor=admin)
session = SessionStore()
session[SESSION_KEY] = str(admin.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = admin.get_session_auth_hash()
session[SESSION_SCHEMA_KEY] = company.schema_name
session.create()
print(json.dumps({{"token": token, "session": session.session_key}}))
"""


class OwnPostgres:
    """A PostgreSQL of the test's own, stopped and started with pg_ctl."""

    def __init__(self, pgdata: Path):
        import pgserver

        self.pgserver = pgserver
        self.pgdata = pgdata
        self.server = pgserver.get_server(pgdata, cleanup_mode="delete")
        self.socket_dir = parse_qs(urlparse(self.server.get_uri()).query)["host"][0]
        self.up = True

    def _pg_ctl(self, *args: str) -> None:
        self.pgserver.pg_ctl(["-w", *args], pgdata=self.pgdata, user=self.server.system_user, timeout=30)

    def stop(self) -> None:
        self._pg_ctl("-m", "fast", "stop")
        self.up = False

    def start(self) -> None:
        # As pgserver starts it: no TCP at all, the same socket folder, the same log.
        self._pg_ctl("-o", '-h ""', "-o", f"-k {self.socket_dir}", "-l", str(self.pgdata / "log"), "start")
        self.up = True

    def close(self) -> None:
        # Stop it here: pgserver's own cleanup knows only the first server process, and would
        # delete the folder under a restarted one.
        if self.up:
            self.stop()
        self.server.cleanup()  # deletes the data folder


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Web:
    def __init__(self, port: int, *, token: str, session: str):
        self.port, self.token, self.session = port, token, session

    def get(self, path: str, *, language: str = "en", timeout: float = 20) -> tuple[int, dict, str]:
        headers = {"Host": HOST, "Accept-Language": language}
        if path.startswith("/api/"):
            headers["Authorization"] = f"Bearer {self.token}"
        else:
            headers["Cookie"] = f"sessionid={self.session}"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read().decode()
        finally:
            connection.close()

    def sweep(self, **kwargs) -> list[tuple[str, int, dict, str]]:
        return [(path, *self.get(path, **kwargs)) for path in PORTAL_PAGES + API_PATHS]


@pytest.fixture
def outage_site(tmp_path):
    """Its own PostgreSQL, migrated and seeded, and a gunicorn serving the app from it."""
    database = OwnPostgres(Path(settings.DATA_DIR) / f"outage-pg-{uuid.uuid4().hex[:8]}")
    web = None
    log = open(tmp_path / "gunicorn.log", "w+")  # noqa: SIM115 - closed below, after the process
    try:
        import psycopg

        with psycopg.connect(host=database.socket_dir, user="postgres", dbname="postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE vastaja")
        env = in_subprocess_env({"HOST": database.socket_dir, "USER": "postgres", "NAME": "vastaja"})
        env.update(DJANGO_ENV="development", DEBUG="true", MEDIA_ROOT=str(tmp_path / "media"), LOG_LEVEL="WARNING")
        env.pop("CELERY_TASK_ALWAYS_EAGER", None)
        manage = [sys.executable, "manage.py"]
        subprocess.run([*manage, "migrate_schemas", "-v", "0"], cwd=ROOT, env=env, check=True, timeout=240)
        seeded = subprocess.run(
            [*manage, "shell", "-c", SEED], cwd=ROOT, env=env, check=True, timeout=120, capture_output=True, text=True
        )
        secrets = json.loads(seeded.stdout.strip().splitlines()[-1])
        port = free_port()
        web = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--threads",
                "4",
                "--timeout",
                "60",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        site = Web(port, token=secrets["token"], session=secrets["session"])
        deadline = time.monotonic() + 60
        while True:
            try:
                if site.get("/calls/", timeout=5)[0] == 200:
                    break
            except OSError:
                pass
            assert web.poll() is None, "gunicorn exited"
            assert time.monotonic() < deadline, "gunicorn did not come up within 60 s"
            time.sleep(0.3)
        yield site, database, web
    finally:
        if web is not None:
            web.terminate()
            try:
                web.wait(timeout=20)
            except subprocess.TimeoutExpired:
                web.kill()
        log.seek(0)
        if os.environ.get("VASTAJA_SHOW_OUTAGE_LOG"):
            print(log.read())
        log.close()
        database.close()


def assert_unavailable(path: str, status: int, headers: dict, body: str, *, language: str = "en"):
    assert status == 503, f"{path} answered {status} with the database down: {body[:300]}"
    assert headers.get("retry-after") == "30", path
    assert "Traceback" not in body, path
    assert "OperationalError" not in body, path
    if path.startswith("/api/"):
        assert headers["content-type"] == "application/json", path
        assert json.loads(body)["code"] == "unavailable", path
    else:
        assert headers["content-type"].startswith("text/html"), path
        assert ("Temporarily unavailable" if language == "en" else "Ajutiselt kättesaamatu") in body, path


def test_stopping_postgresql_under_requests_is_a_clean_503_and_recovery_is_automatic(outage_site):
    site, database, web = outage_site
    for path, status, _, body in site.sweep():
        assert status == 200, f"{path} answered {status} before the outage: {body[:300]}"

    # Requests keep coming while PostgreSQL stops: some are mid-query when it goes.
    answers: list[tuple[str, int, dict, str]] = []
    stop = threading.Event()

    def keep_requesting():
        while not stop.is_set():
            answers.extend(site.sweep())

    threads = [threading.Thread(target=keep_requesting) for _ in range(2)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)
    database.stop()
    time.sleep(2.0)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "requests hung during the outage"
    statuses = [status for _, status, _, _ in answers]
    assert set(statuses) <= {200, 503}, f"answers during the stop: {sorted(set(statuses))}"
    assert 503 in statuses, "no request saw the outage"
    for path, status, headers, body in answers:
        if status == 503:
            assert_unavailable(path, status, headers, body)

    # Down: every page and endpoint answers 503, in the person's language.
    for path, status, headers, body in site.sweep():
        assert_unavailable(path, status, headers, body)
    for path, status, headers, body in site.sweep(language="et"):
        assert_unavailable(path, status, headers, body, language="et")

    # Back: the same process answers again, with no restart.
    database.start()
    deadline = time.monotonic() + 30
    while (answers := site.sweep()) and any(status != 200 for _, status, _, _ in answers):
        assert time.monotonic() < deadline, f"not back after 30 s: {[(p, s) for p, s, _, _ in answers]}"
        time.sleep(0.5)
    assert web.poll() is None
