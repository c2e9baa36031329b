"""The redelivery settings nest as config/settings.py says (docs/operations.md, "Delivery
guarantees"): a task is cut off before its attempt counts as abandoned, an abandoned attempt is
resumed before Redis hands its task out again, a killed worker's task is back before any urgent
message's escalation is due, and the outbox hands a row again only after the broker had its chance.
Checked on the settings as loaded, and on the settings a worker gets from other limits too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from answering.models import URGENT_ACK_MIN_MINUTES, Line
from answering.tasks import deliver_message, deliver_webhook, send_escalation
from operations.outbox.retry import DATABASE_RETRY
from scheduling.tasks import send_appointment_message
from tests.faults import celery_env

ROOT = Path(__file__).resolve().parent.parent
PROBE = """
import json
from django.conf import settings
from config.celery import app
print(json.dumps({
    "soft": app.conf.task_soft_time_limit, "hard": app.conf.task_time_limit,
    "sending": settings.DELIVERY_SENDING_TIMEOUT,
    "visibility": (app.conf.broker_transport_options or {}).get("visibility_timeout"),
    "lease": settings.OUTBOX_LEASE_SECONDS, "acks_late": app.conf.task_acks_late,
    "reject": app.conf.task_reject_on_worker_lost,
}))
"""


def _loaded(**env: str) -> dict:
    environment = {**os.environ, "CELERY_BROKER_URL": "redis://127.0.0.1:1/0", **env}
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", PROBE],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _assert_nested(conf: dict) -> None:
    assert conf["acks_late"] is True
    assert conf["reject"] is True
    assert 0 < conf["soft"] < conf["hard"] < conf["sending"] < conf["visibility"]
    assert conf["visibility"] < URGENT_ACK_MIN_MINUTES * 60  # back before an escalation is due
    assert conf["lease"] > conf["visibility"]


LIMITS = ("CELERY_TASK_TIME_LIMIT", "DELIVERY_SENDING_TIMEOUT", "CELERY_VISIBILITY_TIMEOUT", "OUTBOX_LEASE_SECONDS")
FAULT_TESTS = {
    name: value for name, value in celery_env({}, broker="", queue="", smtp_port=0).items() if name in LIMITS
}


@pytest.mark.parametrize(
    "env",
    [{}, {"CELERY_TASK_TIME_LIMIT": "200"}, FAULT_TESTS],
    ids=["defaults", "a longer task limit", "the fault tests' short limits"],
)
def test_the_redelivery_limits_nest(env):
    _assert_nested(_loaded(**env))


def test_the_delivery_tasks_retry_while_the_database_is_away_within_the_visibility_timeout():
    for task in (deliver_message, deliver_webhook, send_escalation, send_appointment_message):
        assert task.acks_late is True, task.name
        assert set(DATABASE_RETRY["autoretry_for"]) <= set(task.autoretry_for), task.name
        assert task.retry_backoff_max < settings.CELERY_VISIBILITY_TIMEOUT, task.name
    # A task that waits for another worker's send waits one sending timeout: under the visibility.
    assert settings.DELIVERY_SENDING_TIMEOUT < settings.CELERY_VISIBILITY_TIMEOUT


def test_a_line_cannot_escalate_sooner_than_the_broker_can_hand_a_task_out_again():
    from django.core.exceptions import ValidationError

    field = Line._meta.get_field("urgent_ack_minutes")
    with pytest.raises(ValidationError):
        field.run_validators(URGENT_ACK_MIN_MINUTES - 1)
    field.run_validators(URGENT_ACK_MIN_MINUTES)
