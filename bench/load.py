"""Load on loopback: five pages of the real server under wrk, against a static file, in one run.

    .venv/bin/python bench/load.py [--seconds 30] [--connections 16] [--workers 2]
    .venv/bin/python bench/load.py --port 8501 --target http://127.0.0.1:8080   # through a proxy

It creates its own database (`_bench_db.bench_database`), seeds one company ("load"): two lines,
contacts, calls (one in ten with a voicemail), messages, a client admin with an API token, and an
agent granted one of the two lines (names and numbers by the DPA, training in order, a TOTP
device). It then starts the server as production runs it (docs/operations.md): `gunicorn
config.wsgi:application` with `DJANGO_ENV=production`, here with `--workers 2`, on 127.0.0.1, and
drives each page with wrk for `--seconds` over `--connections`:

- static (the baseline): `GET /static/portal/portal.css` (WhiteNoise); 200 and the stylesheet;
- Today: `GET /` on the company's host with the client admin's session; 200 and "Today · Load";
- API call list: `GET /api/v1/calls/` with the token (Bearer); 200 and a page of `results`;
- admin call list: `GET /admin/answering/call/` with the agent's session, its code verified; 200,
  rows, and never the name of the line the agent holds no grant on;
- signed webhook: `POST /telephony/voice/`, each a fresh CallSid with a valid X-Twilio-Signature;
  200 and TwiML.

The static file runs first and last; its mean is the baseline, and both runs are printed so drift
on a shared machine shows. Every response is checked (status 200 and the page's marker) inside wrk;
a wrong status, a missing marker, a forbidden marker, a socket error or a repeated CallSid is an
error, and any error exits non-zero. Goals (issue 19): webhook >= 70% of the static file's rate, API
list >= 40%, Today >= 30%, 0 errors and 0 5xx. The API rate limit is off (`API_RATE_LIMIT=`), and the
output says so.

Why wrk and not locust: on two shared cores the load generator competes with the server it
measures. wrk is an event loop in C (Debian's `wrk`, `apt-get install -y wrk`) that keeps 16
connections busy on a small share of one core; locust's Python clients would spend about as much
CPU per request as the cheapest pages, and skew the static baseline most. wrk cannot compute a
Twilio signature (HMAC-SHA1) in its Lua, so this script signs a pool of distinct requests
beforehand and `bench/load.lua` sends each once.

`--target` sends the load to another address, a proxy in front of this run's server(s) (for
issue 20, one node against two): the server(s) listen on `--port` upward (`--nodes`), and the
bench waits for the target to answer. Host headers name the company and the provider as in
production, so the proxy must pass `Host` through. Only loopback addresses are accepted.

`--profile PAGE[,PAGE]` samples the gunicorn workers with py-spy (`PYSPY` or `py-spy` on PATH) while wrk
drives that page, and writes a flame graph and the top functions to `--profile-out`.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import http.client
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

from _bench_db import ROOT, bench_company, bench_database

SLUG = "load"
HOST = f"{SLUG}.localhost"
PUBLIC = "localhost"
STATIC = "/static/portal/portal.css"
GRANTED_LINE, HIDDEN_LINE = "Reception desk", "Board office"
WARM_UP_ROUNDS = 3
GOALS = {"today": 0.30, "api": 0.40, "webhook": 0.70}
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")
# The production profile's required secrets, fresh for each run: the seeding here and the server
# read the same ones.
SECRETS = ("SECRET_KEY", "KEY_ENCRYPTION_KEY", "FIELD_ENCRYPTION_KEY", "BACKUP_ENCRYPTION_KEY")


def log(line: str) -> None:
    print(f"load: {line}", flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=30, help="per page (default 30)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per node (default 2)")
    parser.add_argument("--nodes", type=int, default=1, help="servers on --port, --port+1, ... (needs --target)")
    parser.add_argument("--port", type=int, default=0, help="the first server's port (default: a free one)")
    parser.add_argument("--target", default="", help="send the load here instead, e.g. http://127.0.0.1:8080")
    parser.add_argument(
        "--conn-max-age", type=int, default=None, help="the servers' DB_CONN_MAX_AGE (default: as configured, 0)"
    )
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--contacts", type=int, default=1_000)
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--only", default="", help="comma-separated pages (static is always measured)")
    parser.add_argument("--profile", default="", help="pages (comma-separated) to sample with py-spy under wrk")
    parser.add_argument("--profile-out", default="load-profile", help="file prefix for --profile")
    args = parser.parse_args()
    if args.seconds < 1 or args.connections < 1 or args.threads < 1 or args.workers < 1 or args.nodes < 1:
        parser.error("--seconds, --connections, --threads, --workers and --nodes must be at least 1")
    args.threads = min(args.threads, args.connections)
    if args.nodes > 1 and not args.target:
        parser.error("--nodes above 1 needs --target: a proxy that spreads the load over them")
    if args.nodes > 1 and not args.port:
        parser.error("--nodes above 1 needs --port, so the proxy knows where the nodes listen")
    if args.target:
        target = urllib.parse.urlsplit(args.target)
        if target.scheme != "http" or target.hostname not in LOOPBACK or not target.port:
            parser.error(f"--target must be http://<loopback address>:<port>, not {args.target!r}")
    if shutil.which("wrk") is None:
        raise SystemExit("error: wrk is not installed (Debian: sudo apt-get install -y wrk)")
    return args


def seed(*, calls: int, contacts: int, messages: int) -> dict:
    """The company, its people and data; returns what the requests need (sessions, token)."""
    import datetime as dt

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connection
    from django.utils import timezone
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from django_tenants.utils import tenant_context
    from guardian.shortcuts import assign_perm

    from answering.models import Call, Line, Message
    from api.tokens.scopes import ALL_SCOPES
    from api.tokens.services import token_create
    from crm.services import contact_create
    from gates.selection import SESSION_KEY as ADMIN_COMPANY_KEY
    from portal.middleware import SESSION_SCHEMA_KEY

    company, people = bench_company(
        slug=SLUG, staff=("agent",), read_grants=("user.contact.name", "user.contact.phone_number")
    )
    agent, client = people["agent"], people["client"]
    now = timezone.now()
    with tenant_context(company):
        lines = [
            Line.objects.create(name=GRANTED_LINE, phone_number="+3726007001", greeting="Thank you for calling."),
            Line.objects.create(name=HIDDEN_LINE, phone_number="+3726007002", greeting="Board office."),
        ]
        assign_perm("answering.view_line", agent, lines[0])
        log(f"creating {contacts:,} contacts (encrypted, blind-indexed) ...")
        people_called = []
        for i in range(contacts):
            people_called.append(contact_create(name=f"Caller {i}", phone_number=f"+37255{i:06d}", actor=None))
            if (i + 1) % 250 == 0:
                log(f"  {i + 1:,} contacts")
        # 200 distinct calls through the ORM (each encrypted under the company's key), then copied
        # in SQL to the wanted count, spread over 90 days and both lines.
        models = [
            Call(
                line=lines[i % 2],
                telephony_sid=f"CAmodel{i}",
                started_at=now - dt.timedelta(minutes=i),
                ended_at=now - dt.timedelta(minutes=i) + dt.timedelta(seconds=90),
                duration_seconds=90,
                caller_number=people_called[i % contacts].phone_number if contacts else "+37255999999",
                caller_name=f"Caller {i % max(contacts, 1)}",
                contact=people_called[i % contacts] if contacts else None,
                notes=f"Asked for a call back about order {1000 + i}.",
            )
            for i in range(min(200, calls))
        ]
        Call.objects.bulk_create(models)
        log(f"creating {calls:,} calls, a voicemail on one in ten, and {messages:,} messages ...")
        columns = [
            f.column
            for f in Call._meta.concrete_fields
            if f.column not in ("id", "telephony_sid", "started_at", "ended_at")
        ]
        listed = ", ".join(columns)
        with connection.cursor() as cursor:
            if calls > len(models):
                cursor.execute(
                    f"INSERT INTO answering_call (telephony_sid, started_at, ended_at, {listed}) "
                    f"SELECT 'CAbulk' || g, now() - (200 + g) * %s * interval '1 second', "
                    f"now() - (200 + g) * %s * interval '1 second' + interval '90 seconds', {listed} "
                    "FROM generate_series(1, %s) g JOIN answering_call m ON m.telephony_sid = 'CAmodel' || (g %% 200)",
                    [90 * 86400 // calls, 90 * 86400 // calls, calls - len(models)],
                )
            cursor.execute(
                "INSERT INTO answering_voicemail (call_id, recording_sid, audio, audio_bytes, duration_seconds, "
                "transcription, transcription_purged, created_at) "
                "SELECT id, 'RE' || id, '', 0, 30, notes, false, started_at FROM answering_call WHERE id % 10 = 0"
            )
        Message.objects.bulk_create(
            Message(
                line=lines[i % 2],
                urgency=Message.Urgency.URGENT if i % 7 == 0 else Message.Urgency.NORMAL,
                caller_name=f"Caller {i}",
                caller_number=f"+37255{i % max(contacts, 1):06d}",
                body=f"Please call back about the appointment on the {1 + i % 28}th.",
                status=Message.Status.DELIVERED if i % 3 else Message.Status.READ,
            )
            for i in range(messages)
        )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    connection.set_schema_to_public()
    _, token = token_create(
        company=company, user=client, name="load", scopes=ALL_SCOPES, expires_in_days=1, actor=client
    )

    def session_for(user, **extra) -> str:
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.update(extra)
        session.create()
        return session.session_key

    return {
        "token": token,
        "client_session": session_for(client, **{SESSION_SCHEMA_KEY: company.schema_name}),
        # Signed in on the provider's host, the second factor given, working for this company.
        "agent_session": session_for(
            agent,
            **{
                DEVICE_ID_SESSION_KEY: TOTPDevice.objects.get(user=agent).persistent_id,
                ADMIN_COMPANY_KEY: SLUG,
            },
        ),
        "account_sid": settings.TWILIO_ACCOUNT_SID,
        "auth_token": settings.TWILIO_AUTH_TOKEN,
    }


def webhook_pool(path: Path, *, count: int, account_sid: str, auth_token: str) -> None:
    """`count` inbound calls, each a fresh CallSid, signed as Twilio signs them for the https URL
    the production server sees behind its TLS proxy (X-Forwarded-Proto: https)."""
    from answering.simulator import new_sid, sign

    url = f"https://{HOST}/telephony/voice/"
    with path.open("w") as out:
        for i in range(count):
            params = {
                "CallSid": new_sid("CA"),
                "AccountSid": account_sid,
                "From": f"+37255{i % 1000:06d}",
                "To": "+3726007001",
                "CallStatus": "ringing",
                "Direction": "inbound",
            }
            out.write(f"{sign(auth_token=auth_token, url=url, params=params)}\t{urllib.parse.urlencode(params)}\n")


def pages(world: dict, pool: Path) -> dict[str, dict]:
    https = ("X-Forwarded-Proto: https",)
    return {
        "static": {
            "method": "GET",
            "path": STATIC,
            "must": "Vastaja portal",
            "headers": (f"Host: {HOST}", *https),
        },
        "today": {
            "method": "GET",
            "path": "/",
            "must": "Today · Load",
            "headers": (f"Host: {HOST}", f"Cookie: sessionid={world['client_session']}", *https),
        },
        "api": {
            "method": "GET",
            "path": "/api/v1/calls/",
            "must": '"results":[{',
            "headers": (f"Host: {HOST}", f"Authorization: Bearer {world['token']}", *https),
        },
        "admin": {
            "method": "GET",
            "path": "/admin/answering/call/",
            "must": 'id="result_list"',
            # The agent holds no grant on the other line: its name must never reach the page.
            "must_not": HIDDEN_LINE,
            "headers": (f"Host: {PUBLIC}", f"Cookie: sessionid={world['agent_session']}", *https),
        },
        "webhook": {
            "method": "POST",
            "path": "/telephony/voice/",
            "must": "<Response>",
            "pool": str(pool),
            "headers": (f"Host: {HOST}", "Content-Type: application/x-www-form-urlencoded", *https),
        },
    }


def check_once(base: str, page: dict, signed: str) -> None:
    """One request of the page, outside wrk, so a wrong set-up fails before any load is spent.
    `signed` is a webhook request of its own (a line of the checks' pool, never of wrk's)."""
    target = urllib.parse.urlsplit(base)
    headers = dict(line.split(": ", 1) for line in page["headers"])
    body = None
    if page.get("pool"):
        signature, body = signed.split("\t")
        headers["X-Twilio-Signature"] = signature
    connection = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
    try:
        connection.request(page["method"], page["path"], body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode(errors="replace")
    finally:
        connection.close()
    if response.status != 200 or page["must"] not in text or (page.get("must_not") and page["must_not"] in text):
        raise SystemExit(f"error: {page['method']} {page['path']} answered {response.status}: {text[:400]!r}")


def wrk(base: str, page: dict, args: argparse.Namespace) -> dict:
    command = [
        "wrk",
        "--threads",
        str(args.threads),
        "--connections",
        str(args.connections),
        "--duration",
        f"{args.seconds}s",
        "--timeout",
        "20s",
        "--script",
        str(Path(__file__).with_name("load.lua")),
        base + page["path"],
        "--",
        page["method"],
        page["path"],
        page["must"],
        page.get("must_not", ""),
        page.get("pool", ""),
        str(args.threads),
        *page["headers"],
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=args.seconds + 120)
    for line in run.stdout.splitlines():
        if line.startswith("LOADRESULT "):
            result = json.loads(line.removeprefix("LOADRESULT "))
            break
    else:
        raise SystemExit(f"error: wrk gave no result (exit {run.returncode}): {run.stdout[-500:]} {run.stderr[-500:]}")
    result["rate"] = result["requests"] / (result["duration_us"] / 1e6)
    result["errors"] = (
        (result["ok"] == 0)  # no right page at all in the whole run is an error too
        + result["connect"]
        + result["read"]
        + result["write"]
        + result["timeout"]
        + result["bad_status"]
        + result["no_marker"]
        + result["forbidden"]
        + result["exhausted"]
    )
    return result


def drain(base: str, static: dict, count: int) -> None:
    """Wait out the requests wrk left queued when it stopped (the server still answers them), so
    they do not slow the next page: `count` static requests sent now are accepted after them."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=count) as executor:
        for job in [executor.submit(check_once, base, static, "") for _ in range(count)]:
            job.result()


def wait_for(base: str, host: str, processes: list[subprocess.Popen], logs: list[Path]) -> None:
    target = urllib.parse.urlsplit(base)
    deadline = time.monotonic() + 90
    while True:
        for process, log_path in zip(processes, logs, strict=True):
            if process.poll() is not None:
                raise SystemExit(f"error: gunicorn exited ({process.returncode}):\n{log_path.read_text()[-3000:]}")
        try:
            connection = http.client.HTTPConnection(target.hostname, target.port, timeout=5)
            # The static file needs no database: it answers as soon as a worker is up (/health/
            # would answer 503 here, as no Celery worker or beat runs beside the bench).
            connection.request("GET", STATIC, headers={"Host": host, "X-Forwarded-Proto": "https"})
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            connection.close()
        if time.monotonic() > deadline:
            raise SystemExit(f"error: {base} did not serve {STATIC} within 90 s")
        time.sleep(0.5)


def py_spy_start(processes: list[subprocess.Popen], seconds: int, prefix: str) -> list[subprocess.Popen]:
    """py-spy on every gunicorn worker (the children of each master) for the page's run, idle
    frames included: a worker waiting on PostgreSQL is idle to the OS, and that wait is the page's."""
    py_spy = os.environ.get("PYSPY") or shutil.which("py-spy")
    if not py_spy:
        raise SystemExit("error: --profile needs py-spy (pip install py-spy, then PYSPY=/path/to/py-spy)")
    workers = []
    for process in processes:
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        workers.extend(int(pid) for pid in children)
    samplers = []
    for pid in workers:
        for form, suffix in (("flamegraph", "svg"), ("raw", "txt")):
            command = [py_spy, "record", "--pid", str(pid), "--duration", str(seconds), "--rate", "50", "--idle"]
            command += ["--nonblocking", "--format", form, "--output", f"{prefix}-{pid}.{suffix}"]
            samplers.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    return samplers


def py_spy_summary(prefix: str, top: int = 30) -> None:
    """The functions of this project (and the few frames that say where time goes: queries,
    templates, URL reversal) by their share of the samples taken inside a request."""
    inclusive: dict[str, int] = {}
    requests = 0
    for raw in Path(prefix).parent.glob(f"{Path(prefix).name}-*.txt"):
        for line in raw.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            frames = stack.split(";")
            if not any(frame.split(" (")[0].endswith("handle_request") for frame in frames):
                continue  # the worker waiting for a connection
            requests += int(count)
            for name in {frame.split(" (")[0] + " (" + frame.split(" (")[-1].split(":")[0] for frame in frames}:
                inclusive[name] = inclusive.get(name, 0) + int(count)
    if not requests:
        print("py-spy: no samples inside a request")
        return
    print(f"py-spy: {requests} samples inside requests; share of them per function (inclusive):")
    # py-spy names a frame by its path below sys.path: "answering/telephony.py", "django/...".
    rooms = {path.name for path in ROOT.iterdir() if path.is_dir() and not path.name.startswith(".")}
    for name, count in sorted(inclusive.items(), key=lambda item: -item[1]):
        mine = name.split(" (")[-1].split("/")[0] in rooms
        if mine or any(word in name for word in ("execute (", "render (", "reverse (", "Connection.connect")):
            print(f"  {count / requests:6.1%}  {name}")
            top -= 1
            if top == 0:
                break


def main() -> None:
    args = parse_args()
    for name in SECRETS:
        os.environ[name] = secrets.token_urlsafe(32)
    os.environ["AUDIT_SIGNING_KEY"] = secrets.token_hex(32)
    os.environ["TWILIO_ACCOUNT_SID"] = "AC" + secrets.token_hex(16)
    os.environ["TWILIO_AUTH_TOKEN"] = secrets.token_hex(16)
    os.environ["API_RATE_LIMIT"] = ""  # off: the bench measures pages, not the limiter
    with tempfile.TemporaryDirectory(prefix="vastaja-load-") as scratch, bench_database():
        from django.conf import settings
        from django.db import connections

        from demo.processes import in_subprocess_env

        work = Path(scratch)
        world = seed(calls=args.calls, contacts=args.contacts, messages=args.messages)
        pool = work / "webhook-pool.tsv"
        count = max(5_000, args.seconds * 500 * args.nodes)
        log(f"signing {count:,} webhook requests, each a fresh CallSid ...")
        webhook_pool(pool, count=count, account_sid=world["account_sid"], auth_token=world["auth_token"])
        checks_pool = work / "webhook-checks.tsv"
        checks = 1 + WARM_UP_ROUNDS * 2 * args.workers * args.nodes * 6
        webhook_pool(checks_pool, count=checks, account_sid=world["account_sid"], auth_token=world["auth_token"])
        database = dict(settings.DATABASES["default"])
        connections.close_all()  # the servers use the database from here on

        env = in_subprocess_env(database)
        env.update(
            DJANGO_ENV="production",
            ALLOWED_HOSTS=f"{PUBLIC},.{PUBLIC},127.0.0.1",
            LOG_LEVEL="WARNING",
            MEDIA_ROOT=str(work / "media"),
            PROMETHEUS_MULTIPROC_DIR=str(work / "prometheus"),
        )
        (work / "prometheus").mkdir()
        if args.conn_max_age is not None:
            env["DB_CONN_MAX_AGE"] = str(args.conn_max_age)
        first = args.port or free_port()
        ports = [first + n for n in range(args.nodes)]
        processes, logs = [], []
        try:
            for port in ports:
                log_path = work / f"gunicorn-{port}.log"
                logs.append(log_path)
                processes.append(
                    subprocess.Popen(
                        [
                            *(sys.executable, "-m", "gunicorn", "config.wsgi:application"),
                            *("--bind", f"127.0.0.1:{port}", "--workers", str(args.workers), "--timeout", "60"),
                            "--no-control-socket",  # by default one per user, which other servers share
                        ],
                        cwd=ROOT,
                        env=env,
                        stdout=log_path.open("w"),
                        stderr=subprocess.STDOUT,
                    )
                )
            nodes = ", ".join(f"127.0.0.1:{port}" for port in ports)
            kept = env.get("DB_CONN_MAX_AGE", "0")
            log(f"gunicorn config.wsgi:application, DJANGO_ENV=production, {args.workers} workers, on {nodes}")
            log(f"DB_CONN_MAX_AGE={kept}: {'a new connection per request' if kept == '0' else 'connections kept'}")
            for port in ports:
                wait_for(f"http://127.0.0.1:{port}", HOST, processes, logs)
            base = args.target.rstrip("/") if args.target else f"http://127.0.0.1:{ports[0]}"
            if args.target:
                log(f"load goes to {base}, which must forward to {nodes} with the Host header kept")
                wait_for(base, HOST, processes, logs)
            table = pages(world, pool)
            wanted = [name for name in args.only.split(",") if name] or [n for n in table if n != "static"]
            unknown = set(wanted) - set(table)
            if unknown:
                raise SystemExit(f"error: no such page: {', '.join(sorted(unknown))} (pages: {', '.join(table)})")
            # Every page once, then warm every worker (its first requests import and compile what
            # the page needs) with a few rounds of concurrent requests, none of them measured.
            checks = iter(checks_pool.read_text().splitlines())
            for name in ["static", *wanted]:
                check_once(base, table[name], next(checks))
            log(f"warming up {len(processes) * args.workers} workers on every page ...")
            with concurrent.futures.ThreadPoolExecutor(max_workers=2 * args.workers * args.nodes) as executor:
                jobs = [
                    executor.submit(check_once, base, table[name], next(checks))
                    for _ in range(WARM_UP_ROUNDS)
                    for name in ["static", *wanted]
                    for _ in range(2 * args.workers * args.nodes)
                ]
                for job in jobs:
                    job.result()
            log("API rate limit: OFF (API_RATE_LIMIT empty) for this run")
            load1, load5, _ = os.getloadavg()
            log(f"load average before: {load1:.2f} (1 min), {load5:.2f} (5 min) on {os.cpu_count()} cores")
            runs: list[tuple[str, dict]] = []
            order = ["static", *[n for n in wanted if n != "static"], "static"]
            for name in order:
                log(f"{name}: wrk {args.connections} connections, {args.threads} threads, {args.seconds} s ...")
                samplers = []
                if name in args.profile.split(","):
                    samplers = py_spy_start(processes, args.seconds, f"{args.profile_out}-{name}")
                result = wrk(base, table[name], args)
                for sampler in samplers:
                    sampler.wait(timeout=60)
                if samplers:
                    py_spy_summary(f"{args.profile_out}-{name}")
                runs.append((name, result))
                drain(base, table["static"], 2 * args.workers * args.nodes)
                log(
                    f"  {result['rate']:.1f} req/s, p50 {result['p50_us'] / 1000:.1f} ms, "
                    f"p99 {result['p99_us'] / 1000:.1f} ms, {result['errors']} errors, {result['status_5xx']} 5xx"
                )
            load_after = os.getloadavg()[0]
            for log_path in logs:
                server_log = [
                    line
                    for line in log_path.read_text().strip().splitlines()
                    # gunicorn's start, and WhiteNoise missing collectstatic's folder (it serves the
                    # apps' static folders directly: WHITENOISE_USE_FINDERS)
                    if "[INFO]" not in line and "staticfiles/" not in line and "mw_instance" not in line
                ]
                if server_log:
                    log(f"{log_path.name}: {len(server_log)} lines, the last of them:")
                    print("\n".join(server_log[-25:]))
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
        report(runs, args, load1, load_after)


def report(runs: list[tuple[str, dict]], args: argparse.Namespace, load_before: float, load_after: float) -> None:
    statics = [result["rate"] for name, result in runs if name == "static"]
    baseline = sum(statics) / len(statics)
    print()
    print(
        f"load on loopback: {args.connections} connections, {args.seconds} s per page, "
        f"gunicorn {args.workers} workers x {args.nodes} node(s)"
    )
    print(f"API rate limit: OFF. Load average {load_before:.2f} before, {load_after:.2f} after, {os.cpu_count()} cores")
    print(f"static baseline: {baseline:.1f} req/s (first {statics[0]:.1f}, last {statics[-1]:.1f})")
    print()
    print(f"{'page':<10} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'5xx':>5} {'share':>7}  goal")
    failed, missed = False, []
    for index, (name, result) in enumerate(runs):
        label = name if name != "static" else ("static 1" if index == 0 else "static 2")
        share = result["rate"] / baseline
        goal = GOALS.get(name)
        met = goal is None or share >= goal
        clean = result["errors"] == 0 and result["status_5xx"] == 0
        failed |= not clean
        if not met:
            missed.append(name)
        verdict = f">= {goal:.0%} {'met' if met else 'NOT met'}" if goal is not None else "(no goal)"
        verdict = "baseline" if name == "static" else verdict
        verdict += "" if clean else "; errors: NOT met"
        print(
            f"{label:<10} {result['rate']:>8.1f} {result['p50_us'] / 1000:>8.1f} {result['p99_us'] / 1000:>8.1f} "
            f"{result['errors']:>7} {result['status_5xx']:>5} {share:>7.0%}  {verdict}"
        )
        if not clean:
            detail = {k: result[k] for k in ("connect", "read", "write", "timeout", "bad_status", "no_marker")}
            detail |= {k: result[k] for k in ("forbidden", "exhausted")}
            print(f"           {detail}")
    print()
    print(f"goals not met: {', '.join(missed) if missed else 'none'}")
    if failed:
        raise SystemExit("FAILED: a page answered a wrong status, a wrong page, or not at all (see errors)")


if __name__ == "__main__":
    main()
