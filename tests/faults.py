"""The delivery fault tests' harness: a Redis of the test's own, Celery worker and beat processes,
and the local sinks that stand for the client's systems (a webhook receiver on loopback HTTP, an SMTP
server). Nothing here touches the machine's own Redis or PostgreSQL; every wait is bounded.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.smtp_standin import SmtpStandIn

ROOT = Path(__file__).resolve().parent.parent
REDIS_SERVER = shutil.which("redis-server")
WORKER_THREADS = 4
MESSAGE_ID = re.compile(rb"^Message-ID:\s*(\S+)", re.I | re.M)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def process_stop(process: subprocess.Popen | None, *, first=signal.SIGTERM, timeout: float = 20) -> None:
    """Stop a child process of the test's own: `first` (TERM), then KILL after `timeout` seconds."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(first)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def listening_wait(port: int, *, process: subprocess.Popen, timeout: float, what: str, log=lambda: "") -> None:
    """Wait until `process` listens on 127.0.0.1:`port`; fail with `log()` if it exits or is late."""
    deadline = time.monotonic() + timeout
    while True:
        assert process.poll() is None, f"{what} exited: {log()}"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            assert time.monotonic() < deadline, f"{what} did not listen within {timeout:.0f} s: {log()}"
            time.sleep(0.1)


def machine_redis_answers() -> bool:
    """Whether the machine's Redis listens on 127.0.0.1:6379 (the two-node and two-worker tests use DB 6)."""
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        return True
    except OSError:
        return False


def wait_for(
    condition: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    every: float = 0.05,
    state: Callable[[], object] | None = None,
) -> float:
    """Wait until `condition()` holds; fail, naming `what` (and `state()`), after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {timeout:.0f} s" + (f": {state()}" if state else "")
        time.sleep(every)
    return time.monotonic()


class OwnRedis:
    """A redis-server on a free loopback port, with no persistence: stopping it loses what it held,
    as a crashed broker would."""

    def __init__(self, folder: Path):
        self.port = free_port()
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self._answers, timeout=10, what="redis-server starting")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


class CeleryProcess:
    """`celery worker` (a few threads, a queue of its own) or `celery beat`, restartable, killable."""

    def __init__(self, kind: str, env: dict, log: Path, *, queue: str, schedule: Path | None = None):
        self.kind, self.env, self.log, self.queue, self.schedule = kind, env, log, queue, schedule
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        if self.kind == "worker":
            # Threads: deliveries wait on the network, and kill -9 still takes every task in flight.
            args = ["worker", "--pool", "threads", "--concurrency", str(WORKER_THREADS), "-Q", self.queue]
            args += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        else:
            args = ["beat", "-s", str(self.schedule), "--max-interval", "1"]
        with open(self.log, "a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "config", *args, "--loglevel", "WARNING"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def kill9(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        process_stop(self.process)


def celery_env(base: dict, *, broker: str, queue: str, smtp_port: int) -> dict:
    """A worker's environment with short, still nested, redelivery limits (config/settings.py), so a
    killed worker's task is back in seconds rather than minutes."""
    env = dict(base)
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    env.update(
        CELERY_BROKER_URL=broker,
        CELERY_RESULT_BACKEND="",
        CELERY_QUEUE=queue,
        EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
        CELERY_TASK_TIME_LIMIT="6",
        DELIVERY_SENDING_TIMEOUT="8",
        CELERY_VISIBILITY_TIMEOUT="10",
        OUTBOX_LEASE_SECONDS="60",
        OUTBOX_RELAY_SECONDS="1",
        LOG_LEVEL="WARNING",
    )
    return env


class WebhookSink:
    """The client's endpoint: records each POST's idempotency key (X-Vastaja-Delivery), after an
    optional delay (a slow receiver)."""

    def __init__(self, *, delay: float = 0.0):
        self.keys: list[str] = []
        self.delay = delay
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                json.loads(body)
                if sink.delay:
                    time.sleep(sink.delay)
                with sink._lock:
                    sink.keys.append(self.headers["X-Vastaja-Delivery"])
                self.send_response(204)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def distinct(self) -> set[str]:
        with self._lock:
            return set(self.keys)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class MailSink(SmtpStandIn):
    """The SMTP stand-in, read by Message-ID: the key a receiving side drops a repeat by."""

    def ids(self, to: str) -> list[str]:
        return [
            match.group(1).decode()
            for message in list(self.messages)
            if to in message["to"] and (match := MESSAGE_ID.search(message["data"]))
        ]
