"""A message taken -> delivered to a local SMTP server, through the outbox, against a direct
`send_mail` to the same server in the same run.

    .venv/bin/python bench/outbox.py [--messages 200]

The outbox path is the production one: `message_take` commits the message and its outbox row, the
wake-up on commit relays the row in a background thread, a real Celery worker (solo pool, on a
redis-server of the benchmark's own) runs the delivery task, which claims the route's attempt,
sends the e-mail and settles the attempt. The clock runs from the call to `message_take` to the
moment the SMTP server holds the e-mail. The baseline is `send_mail` from this process to the same
server: what delivery costs with no database, broker or worker in between. Messages go one at a
time, so the figures are latencies, not throughput. Needs `redis-server` on the PATH.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _bench_db import bench_database

from tests.faults import REDIS_SERVER, CeleryProcess, MailSink, OwnRedis, celery_env, wait_for


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def report(name: str, values: list[float]) -> tuple[float, float]:
    p50, p99 = statistics.median(values) * 1000, percentile(values, 99) * 1000
    print(f"{name:<34} p50 {p50:8.1f} ms   p99 {p99:8.1f} ms   (n={len(values)})")
    return p50, p99


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=200)
    args = parser.parse_args()
    if REDIS_SERVER is None:
        sys.exit("bench/outbox.py needs redis-server on the PATH")

    folder = Path(tempfile.mkdtemp(prefix="vastaja-bench-outbox-"))
    redis = OwnRedis(folder / "redis")
    redis.start()
    os.environ["CELERY_BROKER_URL"] = redis.url  # before Django reads its settings
    os.environ["CELERY_RESULT_BACKEND"] = ""
    os.environ["CELERY_QUEUE"] = "bench-outbox"
    worker = None
    with MailSink() as mail, bench_database():
        from django.conf import settings
        from django.core.mail import send_mail
        from django.db import connection
        from django_tenants.utils import tenant_context

        from answering.models import DeliveryRoute, Line
        from answering.services.messages import message_take
        from demo.processes import in_subprocess_env
        from tenants.models import User
        from tenants.services import client_onboard, provider_ensure, template_ensure

        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", mail.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        print("bench: creating a client company ...", flush=True)
        provider_ensure(domain="localhost")
        template_ensure()
        company = client_onboard(slug="bench", name="Bench Ltd", domain="bench.localhost")
        connection.set_schema_to_public()
        agent = User.objects.create_user("bench-agent", password="bench-pass-123")
        with tenant_context(company):
            line = Line.objects.create(name="Bench line", phone_number="+3726009101")
            DeliveryRoute.objects.create(line=line, channel="email", address="desk@bench.example")
        env = celery_env(
            in_subprocess_env(connection.settings_dict), broker=redis.url, queue="bench-outbox", smtp_port=mail.port
        )
        worker = CeleryProcess("worker", env, folder / "worker.log", queue="bench-outbox")
        worker.start()
        try:
            with tenant_context(company):
                message_take(line=line, actor=agent, ticket_reference="warm-up")
                wait_for(lambda: len(mail.messages) == 1, timeout=120, what="the worker's first delivery")

                outbox, direct = [], []
                for i in range(args.messages):
                    # Interleaved, so that both paths see the same machine at the same moment.
                    held = len(mail.messages)
                    started = time.perf_counter()
                    message_take(line=line, actor=agent, ticket_reference=f"bench-{i}")
                    wait_for(lambda held=held: len(mail.messages) > held, timeout=60, what="a delivery", every=0.001)
                    outbox.append(time.perf_counter() - started)

                    held = len(mail.messages)
                    started = time.perf_counter()
                    send_mail("Direct", "A direct e-mail", settings.DEFAULT_FROM_EMAIL, ["desk@bench.example"])
                    wait_for(lambda held=held: len(mail.messages) > held, timeout=60, what="an e-mail", every=0.001)
                    direct.append(time.perf_counter() - started)
            connection.set_schema_to_public()
        finally:
            worker.stop()
            redis.stop()

    print()
    outbox_p50, outbox_p99 = report("taken -> delivered (outbox, worker)", outbox)
    direct_p50, direct_p99 = report("direct send_mail (baseline)", direct)
    print(f"ratio p50 {outbox_p50 / direct_p50:.1f}x   p99 {outbox_p99 / direct_p99:.1f}x   (outbox / direct)")


if __name__ == "__main__":
    main()
