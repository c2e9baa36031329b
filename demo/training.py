"""The demo's courses, commitments and completions (called by demo.world.demo_seed).

Every agent and supervisor of the demo has signed the commitment and holds the general course;
those working for acme also hold the health-data course that acme's DPA requires. agent2's
general course is due for renewal within 30 days, so the "Training due" page has something to show.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from compliance.training import services
from compliance.training.models import ConfidentialityCommitment, TrainingRecord
from tenants.models import User

GENERAL = "dp-essentials"
HEALTH = "health-data"
COURSES = [
    (GENERAL, "Data protection essentials", 12, True),
    (HEALTH, "Handling health data in calls", 12, False),
]
COMMITMENT_VERSION = "2026-1"
HEALTH_HOLDERS = ("agent1", "agent2", "supervisor")
DUE_SOON = ("agent2",)  # general course completed almost a year ago


def training_demo_seed(*, staff: dict[str, User], recorder: User) -> None:
    today = timezone.localdate()
    courses = {
        code: services.course_ensure(
            code=code, title=title, validity_months=months, required_for_all_staff=general, actor=recorder
        )
        for code, title, months, general in COURSES
    }
    for username, user in staff.items():
        if not ConfidentialityCommitment.objects.filter(user=user).exists():
            services.commitment_record(
                user=user, document_version=COMMITMENT_VERSION, signed_on=today - dt.timedelta(days=120), actor=recorder
            )
        held = [GENERAL, *([HEALTH] if username in HEALTH_HOLDERS else [])]
        for code in held:
            if TrainingRecord.objects.filter(user=user, course=courses[code]).exists():
                continue
            days_ago = 350 if code == GENERAL and username in DUE_SOON else 60
            services.training_record_add(
                user=user, course=courses[code], completed_on=today - dt.timedelta(days_ago), actor=recorder
            )
