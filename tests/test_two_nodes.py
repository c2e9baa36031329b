"""Two web nodes behind a real nginx (tests/nginx.py), as the README's production section runs them.

Two `daphne config.asgi:application` processes in the production profile, on two free loopback
ports, share the suite's test database (its committed rows), Redis DB 6 (channel layer, cache) and
one media folder; nginx round-robins between them, terminates TLS, sets the proxy headers and
retries idempotent requests on the other node. Every check goes through the proxy, and learns which
node served from nginx's `$upstream_addr` (the X-Upstream header):

- a session signed in (password and one-time code) on one node works on the other;
- a push caused by a request node A served reaches the agent's socket held by node B;
- the API rate limit counts across both nodes;
- X-Forwarded-Proto and Host: http is redirected to https (a client's forged X-Forwarded-Proto
  too), https is secure (its cookies too), a forged Host is a 400 on both nodes;
- a voicemail stored through one node plays through the other, through whatever STORAGES the
  settings select (local files on one shared folder here);
- SIGKILL of one node in the middle of a loop of GETs: every GET answers 200, nginx retries.

The last test prints the counts checked: requests, cross-node plays, pushes and failovers.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import warnings
from collections import Counter
from importlib import import_module
from pathlib import Path

import pytest

from tests.faults import free_port, listening_wait, machine_redis_answers, process_stop
from tests.nginx import UPSTREAM_HEADER, OwnNginx, requires_nginx

pytestmark = [requires_nginx, pytest.mark.usefixtures("live_db")]

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = "redis://127.0.0.1:6379/6"
# The README's production server for the sockets and pages, trusting the proxy's X-Forwarded-For.
DAPHNE = [sys.executable, "-m", "daphne", "--proxy-headers"]
RATE_LIMIT = 12
TWILIO_SID = "AC" + "1" * 32
TWILIO_TOKEN = "two-node-twilio-auth-token"
COUNTS: Counter = Counter()


class Node:
    """One `daphne` web process in the production profile, on a port of its own."""

    def __init__(self, env: dict, folder: Path):
        self.port = free_port()
        self.env, self.log = env, folder / f"daphne-{self.port}.log"
        self.process: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(
                [*DAPHNE, "-b", "127.0.0.1", "-p", str(self.port), "config.asgi:application"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self) -> None:
        listening_wait(
            self.port, process=self.process, timeout=60, what="daphne", log=lambda: self.log.read_text()[-3000:]
        )

    def kill9(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        process_stop(self.process, timeout=10)


class Cluster:
    def __init__(self, nodes: list[Node], proxy: OwnNginx):
        self.nodes, self.proxy = nodes, proxy

    def other(self, address: str) -> str:
        (other,) = [node.address for node in self.nodes if node.address != address]
        return other

    def request(self, session, method: str, path: str, *, host: str, https: bool = True, **kwargs):
        """A request through nginx, as a browser on `host` would send it (Host with the proxy's port)."""
        port = self.proxy.https_port if https else self.proxy.http_port
        headers = {"Host": f"{host}:{port}", **kwargs.pop("headers", {})}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the proxy's certificate is self-signed
            response = session.request(
                method,
                f"{'https' if https else 'http'}://127.0.0.1:{port}{path}",
                headers=headers,
                verify=False,
                allow_redirects=False,
                timeout=30,
                **kwargs,
            )
        COUNTS["requests"] += 1
        return response

    def origin(self, host: str) -> str:
        return f"https://{host}:{self.proxy.https_port}"


def served_by(response) -> str:
    return response.headers.get(UPSTREAM_HEADER, "")


@pytest.fixture(scope="module")
def cluster(demo_world, django_db_blocker):
    if not machine_redis_answers():
        pytest.skip("the two-node test needs the machine's Redis on 127.0.0.1:6379 (DB 6)")
    from django.conf import settings
    from django.db import connection

    from demo.processes import in_subprocess_env

    folder = Path(tempfile.mkdtemp(prefix="vastaja-two-nodes-"))
    with django_db_blocker.unblock():
        env = in_subprocess_env(connection.settings_dict)
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    # The production profile, with the suite's own keys (so the nodes read what the suite wrote).
    env.update(
        DJANGO_ENV="production",
        SECRET_KEY=settings.SECRET_KEY,
        KEY_ENCRYPTION_KEY=settings.KEY_ENCRYPTION_KEY,
        # django-cryptography replaces the setting by its derived bytes: the variable as configured.
        FIELD_ENCRYPTION_KEY=import_module("config.settings").CRYPTOGRAPHY_KEY,
        BACKUP_ENCRYPTION_KEY=settings.BACKUP_ENCRYPTION_KEY,
        AUDIT_SIGNING_KEY=settings.AUDIT_SIGNING_KEY,
        ALLOWED_HOSTS="localhost,.localhost",
        CELERY_BROKER_URL=REDIS_URL,
        CHANNEL_LAYER_URL=REDIS_URL,
        CACHE_URL=REDIS_URL,
        CELERY_QUEUE=f"two-nodes-{uuid.uuid4().hex[:8]}",  # no worker takes what the nodes relay
        API_RATE_LIMIT=f"{RATE_LIMIT}/min",
        MEDIA_ROOT=str(settings.MEDIA_ROOT),  # the suite's storage: one disk for both nodes and the test
        TWILIO_ACCOUNT_SID=TWILIO_SID,
        TWILIO_AUTH_TOKEN=TWILIO_TOKEN,
        EMAIL_SUBPROCESSOR="Demo Mail OÜ",
        EMAIL_REGION="EE",
        LOG_LEVEL="WARNING",
    )
    nodes = [Node(env, folder), Node(env, folder)]
    try:
        for node in nodes:
            node.start()
        for node in nodes:
            node.wait_ready()
        with OwnNginx([node.port for node in nodes]) as proxy:
            yield Cluster(nodes, proxy)
    finally:
        for node in nodes:
            node.stop()
        shutil.rmtree(folder, ignore_errors=True)


def _until_served_by(send, address: str, *, tries: int = 6):
    """Send (round robin alternates the nodes) until `address` serves; the response."""
    for _ in range(tries):
        response = send()
        if served_by(response) == address:
            return response
    pytest.fail(f"{address} served none of {tries} requests through the proxy")


@pytest.fixture(scope="module")
def agent(cluster, django_db_blocker):
    """agent1 signed in to the provider's admin through the proxy (password and one-time code):
    (the requests session, the node that served the sign-in)."""
    import requests

    from demo.world import DEMO_PASSWORD
    from tests.browser import demo_totp_code

    session = requests.Session()
    page = cluster.request(session, "GET", "/admin/login/?next=/admin/desk/", host="localhost")
    assert page.status_code == 200, page.status_code
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    with django_db_blocker.unblock():
        code = demo_totp_code("agent1")
    signed = cluster.request(
        session,
        "POST",
        "/admin/login/?next=/admin/desk/",
        host="localhost",
        data={"username": "agent1", "password": DEMO_PASSWORD, "otp_token": code, "csrfmiddlewaretoken": csrf},
        headers={"Origin": cluster.origin("localhost"), "Referer": f"{cluster.origin('localhost')}/admin/login/"},
    )
    assert signed.status_code == 302, signed.text[:1000]
    assert "/admin/login/" not in signed.headers["Location"]
    yield session, served_by(signed)
    with django_db_blocker.unblock():
        from desk.models import AgentState, Presence

        Presence.objects.filter(user__username="agent1").update(state=AgentState.OFFLINE, reason=None)


@pytest.fixture(scope="module")
def tokens(cluster, django_db_blocker):
    """`tokens()`: a fresh API token of acme's admin, all scopes (each has its own rate bucket)."""
    from api.tokens.models import ApiToken
    from api.tokens.scopes import ALL_SCOPES
    from api.tokens.services import token_create
    from tenants.models import ClientCompany, User

    made = []

    def make() -> str:
        with django_db_blocker.unblock():
            company = ClientCompany.objects.get(schema_name="acme")
            admin = User.objects.get(username="acme-admin")
            token, secret = token_create(
                company=company, user=admin, name="two nodes", scopes=ALL_SCOPES, expires_in_days=1, actor=admin
            )
        made.append(token.pk)
        return secret

    yield make
    with django_db_blocker.unblock():
        ApiToken.objects.filter(pk__in=made).delete()


def test_a_session_signed_in_on_one_node_works_on_the_other(cluster, agent):
    session, signed_on = agent
    assert signed_on in {node.address for node in cluster.nodes}
    other = cluster.other(signed_on)
    console = _until_served_by(lambda: cluster.request(session, "GET", "/admin/desk/", host="localhost"), other)
    assert console.status_code == 200, console.headers.get("Location")
    assert 'id="live-status"' in console.text
    # Without the session cookie the same page on the same node is the sign-in page.
    import requests

    anonymous = _until_served_by(
        lambda: cluster.request(requests.Session(), "GET", "/admin/desk/", host="localhost"), other
    )
    assert anonymous.status_code == 302
    assert "/admin/login/" in anonymous.headers["Location"]
    COUNTS["cross-node sessions"] += 1


def test_a_push_from_one_node_reaches_the_socket_held_by_the_other(cluster, agent):
    import aiohttp

    session, _ = agent
    cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
    port = cluster.proxy.https_port

    page = cluster.request(session, "GET", "/admin/desk/", host="localhost")
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)

    def console_post(state: str):
        return cluster.request(
            session,
            "POST",
            "/admin/desk/",
            host="localhost",
            data={"state": state, "csrfmiddlewaretoken": csrf},
            headers={"Origin": cluster.origin("localhost"), "Referer": f"{cluster.origin('localhost')}/admin/desk/"},
        )

    async def run() -> int:
        crossed = 0
        async with aiohttp.ClientSession() as http:
            socket_node = None
            async with http.ws_connect(
                f"wss://127.0.0.1:{port}/ws/desk/",
                ssl=False,
                headers={"Host": f"localhost:{port}", "Origin": cluster.origin("localhost"), "Cookie": cookie},
                timeout=aiohttp.ClientWSTimeout(ws_receive=10),
            ) as ws:
                socket_node = ws._response.headers.get(UPSTREAM_HEADER)
                assert socket_node in {node.address for node in cluster.nodes}
                assert (await ws.receive_json(timeout=10)) == {"kind": "hello"}
                for state in ("wrap_up", "offline", "wrap_up", "offline"):
                    posted = await asyncio.to_thread(console_post, state)
                    assert posted.status_code == 302, posted.text[:500]
                    event = await asyncio.wait_for(ws.receive_json(), timeout=10)
                    assert event == {"kind": "state", "state": state, "reason": ""}
                    COUNTS["pushes"] += 1
                    if served_by(posted) != socket_node:
                        crossed += 1
        return crossed

    # In a thread of its own: a browser test earlier in the run may leave an event loop running in
    # this one (Playwright's synchronous API), where asyncio.run() refuses to start.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        crossed = pool.submit(asyncio.run, run()).result(timeout=120)
    # Round robin: of four POSTs, some were served by the node that does not hold the socket.
    assert crossed >= 1
    COUNTS["cross-node pushes"] += crossed


def test_the_api_rate_limit_counts_across_both_nodes(cluster, tokens):
    import requests

    token = tokens()
    session = requests.Session()
    answers = [
        cluster.request(
            session, "GET", "/api/v1/lines/", host="acme.localhost", headers={"Authorization": f"Bearer {token}"}
        )
        for _ in range(RATE_LIMIT + 8)
    ]
    statuses = [response.status_code for response in answers]
    assert statuses == [200] * RATE_LIMIT + [429] * 8, statuses
    # Both nodes served the allowed ones and both refused: one count, not one per process.
    assert {served_by(r) for r in answers[:RATE_LIMIT]} == {node.address for node in cluster.nodes}
    assert {served_by(r) for r in answers[RATE_LIMIT:]} == {node.address for node in cluster.nodes}
    assert "Retry-After" in answers[-1].headers
    COUNTS["rate-limited requests"] += 8


def test_forwarded_proto_and_host_are_honoured_behind_the_proxy(cluster):
    import requests

    session = requests.Session()
    seen = set()
    for _ in range(2):
        # Plain http at the proxy: redirected to https, even when the client claims https itself.
        for forged in ({}, {"X-Forwarded-Proto": "https"}):
            plain = cluster.request(session, "GET", "/admin/login/", host="localhost", https=False, headers=forged)
            assert plain.status_code == 301, plain.status_code
            assert plain.headers["Location"] == f"https://localhost:{cluster.proxy.http_port}/admin/login/"
        # https at the proxy: served, as secure, so the CSRF cookie is Secure and HSTS is sent.
        secure = cluster.request(session, "GET", "/admin/login/", host="localhost")
        assert secure.status_code == 200
        assert "secure" in secure.headers["Set-Cookie"].lower()
        assert "max-age=" in secure.headers["Strict-Transport-Security"]
        # A Host no setting allows is refused, also when X-Forwarded-Host names an allowed one.
        forged = cluster.request(
            session, "GET", "/admin/login/", host="evil.example", headers={"X-Forwarded-Host": "localhost"}
        )
        # (django-tenants answers a Host outside ALLOWED_HOSTS with an empty 404, before any view.)
        assert forged.status_code == 404, forged.status_code
        assert forged.text == ""
        seen |= {served_by(plain), served_by(secure), served_by(forged)}
    assert seen == {node.address for node in cluster.nodes}
    # A node ignores X-Forwarded-Host (USE_X_FORWARDED_HOST stays off): a client that reached a
    # node past the proxy still cannot choose the company by it.
    node = cluster.nodes[0]
    direct = session.get(
        f"http://{node.address}/accounts/login/",
        headers={"Host": "acme.localhost", "X-Forwarded-Host": "globex.localhost", "X-Forwarded-Proto": "https"},
        allow_redirects=False,
        timeout=30,
    )
    assert direct.status_code == 200
    assert "Acme" in direct.text
    assert "Globex" not in direct.text


def test_a_voicemail_stored_through_one_node_plays_through_the_other(cluster, tokens, django_db_blocker):
    import requests
    from django_tenants.utils import schema_context

    from answering.models import Call, Line, Listen, Voicemail
    from answering.simulator import RecordingMediaServer, new_sid, sign, tone_wav
    from operations.outbox.models import OutboxEntry
    from tenants.files import encrypted_file_delete
    from tests.cleanup import audit_rows_removed_after

    token = tokens()
    audio = tone_wav(1.0)
    session = requests.Session()
    port = cluster.proxy.https_port
    with django_db_blocker.unblock(), audit_rows_removed_after("acme"):
        with schema_context("acme"):
            line = Line.objects.order_by("pk").first()
            outbox_mark = OutboxEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        call_sid = new_sid("CA")
        common = {"CallSid": call_sid, "AccountSid": TWILIO_SID, "From": "+37251230001", "To": line.phone_number}

        def webhook(path: str, params: dict):
            url = f"https://acme.localhost:{port}{path}"  # the public URL, as Twilio signs it
            signature = sign(auth_token=TWILIO_TOKEN, url=url, params=params)
            return cluster.request(
                session, "POST", path, host="acme.localhost", data=params, headers={"X-Twilio-Signature": signature}
            )

        stored_on = None
        try:
            answered = webhook("/telephony/voice/", {**common, "CallStatus": "ringing", "Direction": "inbound"})
            assert answered.status_code == 200, answered.text[:500]
            with RecordingMediaServer(account_sid=TWILIO_SID, auth_token=TWILIO_TOKEN) as media:
                recording_sid, url = media.add(audio)
                stored = webhook(
                    "/telephony/recording/",
                    {**common, "RecordingSid": recording_sid, "RecordingUrl": url, "RecordingDuration": "1"},
                )
            assert stored.status_code == 204, stored.text[:500]
            stored_on = served_by(stored)
            with schema_context("acme"):
                voicemail = Voicemail.objects.get(recording_sid=recording_sid)

            played = _until_served_by(
                lambda: cluster.request(
                    session,
                    "GET",
                    f"/api/v1/voicemail/{voicemail.pk}/audio/",
                    host="acme.localhost",
                    headers={"Authorization": f"Bearer {token}", "Accept": "audio/wav"},
                ),
                cluster.other(stored_on),
            )
            assert played.status_code == 200, played.text[:500]
            assert played.content == audio
            COUNTS["cross-node plays"] += 1
        finally:
            with schema_context("acme"):
                for call in Call.objects.filter(telephony_sid=call_sid):
                    for kept in Voicemail.objects.filter(call=call):
                        Listen.objects.filter(voicemail=kept).delete()
                        encrypted_file_delete(kept.audio)
                        kept.delete()
                    call.messages.all().delete()
                    call.delete()
                OutboxEntry.objects.filter(pk__gt=outbox_mark).delete()


SUMMARY = (
    "requests",
    "cross-node sessions",
    "pushes",
    "cross-node pushes",
    "cross-node plays",
    "rate-limited requests",
    "failovers",
    "requests after the kill",
)
FAILOVER_THREADS = 3
FAILOVER_REQUESTS = 40  # per thread
KILL_AFTER = 30


def test_killing_one_node_mid_run_loses_no_accepted_request(cluster, agent, capsys):
    session_template, _ = agent
    cookies = session_template.cookies.get_dict()
    statuses: Counter = Counter()
    failovers, after_kill = [], []
    lock = threading.Lock()
    victim = cluster.nodes[1]
    killed = threading.Event()

    def client() -> None:
        import requests

        session = requests.Session()
        session.cookies.update(cookies)
        for _ in range(FAILOVER_REQUESTS):
            response = cluster.request(session, "GET", "/admin/desk/", host="localhost")
            with lock:
                statuses[response.status_code] += 1
                if "," in served_by(response):
                    failovers.append(served_by(response))
                if killed.is_set():
                    after_kill.append(served_by(response))

    threads = [threading.Thread(target=client) for _ in range(FAILOVER_THREADS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while sum(statuses.values()) < KILL_AFTER:
        assert time.monotonic() < deadline, f"only {sum(statuses.values())} answers within 30 s"
        time.sleep(0.01)
    victim.kill9()
    killed.set()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "clients still running after 60 s"

    total = FAILOVER_THREADS * FAILOVER_REQUESTS
    assert statuses == Counter({200: total}), statuses
    assert failovers, "no request was retried on the surviving node"
    assert all(address.split(", ")[-1] == cluster.nodes[0].address for address in failovers)
    assert after_kill
    assert set(after_kill[-5:]) == {cluster.nodes[0].address}
    COUNTS["failovers"] += len(failovers)
    COUNTS["requests after the kill"] += len(after_kill)
    with capsys.disabled():
        print("\ntwo nodes behind nginx: " + ", ".join(f"{name} {COUNTS[name]}" for name in SUMMARY))
