"""Two real Celery workers share one queue on Redis DB 6, with two beats running at once, over the
suite's test database (acme's committed rows): every delivery is still made exactly once.

A second beat is harmless rather than refused: no lock keeps it out, and every job beat sends is
idempotent (the outbox relay claims rows with SKIP LOCKED, a row's task id names its side effect,
a task resumes its own attempt). This test proves it for the outbox and its deliveries: messages are
taken with no wake-up on commit, so only the two beats' relays hand them to the two workers; each
webhook's idempotency key (X-Vastaja-Delivery) arrives once, and no key twice. Each worker's and
each beat's log shows it took part.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.faults import ROOT, MailSink, WebhookSink, celery_env, machine_redis_answers, process_stop, wait_for

pytestmark = [pytest.mark.celery_worker, pytest.mark.usefixtures("live_db")]

BROKER = "redis://127.0.0.1:6379/6"
MESSAGES = 40

TAKE = """
import os
from django_tenants.utils import tenant_context
from answering.models import Line
from answering.services.messages import message_take
from gates.context import system_context
from tenants.models import ClientCompany, User

agent = User.objects.get(username="agent1")
with tenant_context(ClientCompany.objects.get(schema_name="acme")), system_context(reason="test assertions"):
    line = Line.objects.order_by("pk").first()
    for i in range(int(os.environ["TAKE_COUNT"])):
        message_take(line=line, actor=agent, ticket_reference=f"{os.environ['TAKE_PREFIX']}-{i}")
print("taken")
"""


class Celery:
    """A `celery worker` (threads) or `celery beat`, logging at INFO to a file of its own."""

    def __init__(self, args: list[str], env: dict, log: Path):
        self.log = log
        with open(log, "w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "config", *args, "--loglevel", "INFO"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def text(self) -> str:
        return self.log.read_text()

    def stop(self) -> None:
        process_stop(self.process)


@pytest.fixture
def acme_webhook(django_db_blocker):
    """An active webhook of acme's to a local sink (committed, so the workers see it); acme's rows
    the test adds are removed after, its audit rows included."""
    from django_tenants.utils import schema_context

    from answering.models import DeliveryAttempt, Message, WebhookEndpoint
    from operations.outbox.models import OutboxEntry
    from tests.cleanup import audit_rows_removed_after

    sink = WebhookSink()
    with django_db_blocker.unblock(), audit_rows_removed_after("acme"), schema_context("acme"):
        outbox_mark = OutboxEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        message_mark = Message.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        endpoint = WebhookEndpoint.objects.create(url=sink.url, secret="whsec-two-workers")
        try:
            yield sink
        finally:
            sink.close()
            DeliveryAttempt.objects.filter(message_id__gt=message_mark).delete()
            Message.objects.filter(pk__gt=message_mark).delete()
            OutboxEntry.objects.filter(pk__gt=outbox_mark).delete()
            endpoint.delete()


def test_two_workers_and_two_beats_deliver_each_message_once(acme_webhook, django_db_blocker, tmp_path):
    if not machine_redis_answers():
        pytest.skip("the two-worker test needs the machine's Redis on 127.0.0.1:6379 (DB 6)")
    from django.db import connection
    from django_tenants.utils import schema_context

    from demo.processes import in_subprocess_env
    from operations.outbox.models import OutboxEntry

    sink = acme_webhook
    queue = f"two-workers-{uuid.uuid4().hex[:8]}"
    with django_db_blocker.unblock():
        base = in_subprocess_env(connection.settings_dict)
    mail = MailSink().__enter__()
    env = celery_env(base, broker=BROKER, queue=queue, smtp_port=mail.port)
    env.update(OUTBOX_WAKE_ON_COMMIT="false", LOG_LEVEL="INFO")
    worker_args = ["worker", "--pool", "threads", "--concurrency", "4", "-Q", queue]
    worker_args += ["--without-gossip", "--without-mingle", "--without-heartbeat", "--prefetch-multiplier", "1"]
    processes = []
    try:
        for n in (1, 2):
            processes.append(Celery([*worker_args, "-n", f"w{n}-{queue}@%h"], env, tmp_path / f"worker{n}.log"))
        for n in (1, 2):
            beat = ["beat", "-s", str(tmp_path / f"beat{n}-schedule"), "--max-interval", "1"]
            processes.append(Celery(beat, env, tmp_path / f"beat{n}.log"))
        workers, beats = processes[:2], processes[2:]

        prefix = f"workers-{uuid.uuid4().hex[:6]}"
        subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", TAKE],
            cwd=ROOT,
            env={**env, "TAKE_COUNT": str(MESSAGES), "TAKE_PREFIX": prefix},
            check=True,
            timeout=120,
        )

        def webhook_rows_open() -> int:
            with django_db_blocker.unblock(), schema_context("acme"):
                return OutboxEntry.objects.filter(task="answering.deliver_webhook", done_at__isnull=True).count()

        wait_for(
            lambda: len(set(sink.keys)) >= MESSAGES and webhook_rows_open() == 0,
            timeout=90,
            every=0.2,
            what=f"{MESSAGES} webhooks delivered by two workers",
            state=lambda: (len(sink.keys), webhook_rows_open(), [p.text()[-1500:] for p in processes]),
        )
        for process in processes:
            assert process.process.poll() is None, process.text()[-3000:]
    finally:
        for process in processes:
            process.stop()
        mail.__exit__(None, None, None)

    # Exactly once: one POST per message, no key twice (nothing was killed, so nothing repeats).
    assert len(sink.keys) == MESSAGES
    assert len(set(sink.keys)) == MESSAGES
    # Both workers took deliveries from the one queue, and both beats relayed.
    done = [worker.text().count("answering.deliver_webhook[") for worker in workers]
    assert all(count > 0 for count in done), done
    sent = [beat.text().count("Sending due task outbox-relay") for beat in beats]
    assert all(count > 0 for count in sent), sent
    print(f"two workers: webhooks {len(sink.keys)} for {MESSAGES} messages, task lines {done}, beat relays {sent}")
