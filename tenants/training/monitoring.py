"""Staff training and confidentiality (collected by tenants.monitoring): two gauges, counts only."""

from __future__ import annotations

from tenants.monitoring.registry import gauge
from tenants.training.selectors import overdue_training_count, staff_without_commitment


@gauge("vastaja_training_overdue", "Required courses, per member of staff, that are expired or were never completed")
def training_overdue():
    yield (), overdue_training_count()


@gauge("vastaja_staff_without_commitment", "Active provider staff with no signed confidentiality commitment")
def without_commitment():
    yield (), len(staff_without_commitment())
