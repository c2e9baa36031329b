"""Fixtures for the whole suite (loaded with `-p tests.fixtures`).

Client companies are slow to create, so the test database gets the demo world once per session:
acme, globex and initech, with their admins and the provider's staff. Each test then runs in a
transaction that is rolled back. Named actors include people who must *not* see a company's data:
`globex_admin` for acme and `agent2` for globex, for example.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

# This module is a pytest plugin, imported before Django is set up: Django imports go inside.
if TYPE_CHECKING:
    from tenants.models import ClientCompany, User


@pytest.fixture(scope="session", autouse=True)
def _test_gate_context():
    """Test code reads tenant data to set up and assert, in a context of its own, named and
    unlogged (gates.context). Every request, task and command a test drives clears it, so the code
    under test must still go through the gate layer."""
    from gates.context import dangerously_unlogged_test_context

    with dangerously_unlogged_test_context(reason="test assertions"):
        yield


@pytest.fixture(autouse=True)
def _test_gate_context_each_test(_test_gate_context):
    """Each test starts in the test context again, whatever the one before it left."""
    from gates.context import dangerously_unlogged_test_context

    with dangerously_unlogged_test_context(reason="test assertions"):
        yield


def in_test_context(target):
    """A thread's target, run in the test context: a thread starts with no gate context (as a
    worker's or a live server's does), so a test's own thread that calls services says so."""
    from functools import wraps

    @wraps(target)
    def run(*args, **kwargs):
        from gates.context import dangerously_unlogged_test_context

        with dangerously_unlogged_test_context(reason="test assertions"):
            return target(*args, **kwargs)

    return run


@pytest.fixture(scope="session", autouse=True)
def demo_world(django_db_setup, django_db_blocker):
    """The demo world, created once in the test database (a plugin cannot override
    pytest-django's django_db_setup, so this session fixture builds on it)."""
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    from demo.world import demo_seed

    databases = None
    if not connection.settings_dict["NAME"].startswith("test_"):
        # pytest-django sets up a test database only when a collected test asks for `db`; browser
        # tests (`live_db`) and database-free runs do not. Never seed the developer's database.
        with django_db_blocker.unblock():
            databases = setup_databases(verbosity=0, interactive=False, aliases={"default"})
    with django_db_blocker.unblock():
        demo_seed(log=lambda line: None, rich=False)
        connection.set_schema_to_public()
    yield
    if databases is not None:
        with django_db_blocker.unblock():
            teardown_databases(databases, verbosity=0)


@pytest.fixture(autouse=True)
def _public_schema_between_tests():
    """Every test starts and ends on the public schema, whatever a request or context left."""
    from django.db import connection

    connection.set_schema_to_public()
    yield
    connection.set_schema_to_public()


@pytest.fixture(autouse=True)
def _default_language_between_tests():
    """Every test ends in the default language: a request in Estonian leaves Estonian active in the
    thread (LocaleMiddleware activates it and nothing resets it), which would translate the next
    test's service errors."""
    from django.utils import translation

    yield
    translation.deactivate()


def _company(slug: str) -> ClientCompany:
    from django.db import connection

    from tenants.models import ClientCompany

    connection.set_schema_to_public()
    return ClientCompany.objects.get(schema_name=slug)


@pytest.fixture
def acme(db) -> ClientCompany:
    return _company("acme")


@pytest.fixture
def globex(db) -> ClientCompany:
    return _company("globex")


@pytest.fixture
def initech(db) -> ClientCompany:
    return _company("initech")


def _user(username: str) -> User:
    from tenants.models import User

    return User.objects.get(username=username)


@pytest.fixture
def acme_admin(db) -> User:
    return _user("acme-admin")


@pytest.fixture
def globex_admin(db) -> User:
    return _user("globex-admin")


@pytest.fixture
def agent1(db) -> User:
    """An agent assigned to all three companies, with grants on every line."""
    return _user("agent1")


@pytest.fixture
def agent2(db) -> User:
    """An agent assigned to acme only, with a grant on one of its lines (+3726001001)."""
    return _user("agent2")


@pytest.fixture
def client_for():
    """`client_for("acme.localhost", user)`: an HTTP client for that host, signed in as `user`."""
    from django.test import Client

    from portal.middleware import SESSION_SCHEMA_KEY
    from tenants.models import Domain

    def make(host: str, user: User | None = None) -> Client:
        client = Client(HTTP_HOST=host)
        if user is not None:
            client.force_login(user)
            # A real sign-in binds the session to its host's company; force_login has no host.
            domain = Domain.objects.filter(domain=host).select_related("tenant").first()
            if domain is not None:
                session = client.session
                session[SESSION_SCHEMA_KEY] = domain.tenant.schema_name
                session.save()
        return client

    return make


@pytest.fixture
def admin_for():
    """`admin_for(user, "acme")`: a client on the provider's host, signed in with a verified
    second factor, working for that client company (or none)."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from gates.selection import SESSION_KEY

    def make(user: User, company: str | None = None) -> Client:
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        session = client.session
        device = TOTPDevice.objects.filter(user=user).first()
        if device is not None:
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session[SESSION_KEY] = company
        session.save()
        return client

    return make


@pytest.fixture
def eager_tasks():
    """Unit tests only: run tasks inline (the demo and production always use a real worker)."""
    from config.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def woken(monkeypatch) -> list[str]:
    """The schemas whose outbox was woken on commit (the relay itself does not run)."""
    schemas: list[str] = []
    monkeypatch.setattr("operations.outbox.services.outbox_wake", lambda *, tenant: schemas.append(tenant.schema_name))
    return schemas


# ---- a real Celery worker --------------------------------------------------------------------

requires_redis = pytest.mark.skipif(
    not __import__("os").environ.get("CELERY_BROKER_URL", "").startswith("redis"),
    reason="no Redis broker configured: set CELERY_BROKER_URL=redis://127.0.0.1:6379/0 to run the real worker",
)
TWILIO_TEST_SID = "AC" + "0" * 32


@pytest.fixture(scope="session")
def twilio():
    """A local stand-in for Twilio's REST API, shared by the suite and the worker process."""
    from django.conf import settings

    from demo.twilio_standin import TwilioStandIn

    with TwilioStandIn(TWILIO_TEST_SID, settings.TWILIO_AUTH_TOKEN) as standin:
        yield standin


@pytest.fixture(scope="session")
def celery_worker_queue(django_db_blocker, twilio):
    """A real `celery worker` process on the configured Redis broker, against the test database,
    consuming a queue of its own so that no other worker can take these tasks. Its SMS go to the
    Twilio stand-in."""
    import os
    import subprocess
    import sys
    import uuid
    from pathlib import Path

    from django.conf import settings
    from django.db import connection

    from demo.processes import in_subprocess_env

    queue = f"vastaja-test-{uuid.uuid4().hex[:8]}"
    with django_db_blocker.unblock():
        env = in_subprocess_env(connection.settings_dict)
    env.update(
        CELERY_QUEUE=queue,
        TWILIO_API_BASE=twilio.base_url,
        TWILIO_ACCOUNT_SID=TWILIO_TEST_SID,
        TWILIO_FROM_NUMBER="+3725550000",
    )
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    log_path = Path(settings.DATA_DIR) / f"test-worker-{queue}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)  # with DATABASE_URL and Redis set, nothing else made it
    with open(log_path, "w+") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool",
                "solo",
                "-Q",
                queue,
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel",
                "INFO",
            ],
            cwd=Path(__file__).resolve().parent.parent,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield queue
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
    os.unlink(log_path)
