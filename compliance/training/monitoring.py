"""Staff training and confidentiality (collected by operations.monitoring): two gauges, counts only."""

from __future__ import annotations

from compliance.training.selectors import overdue_training_count, staff_without_commitment
from operations.monitoring.registry import gauge


@gauge("vastaja_training_overdue", "Required courses, per member of staff, that are expired or were never completed")
def training_overdue():
    yield (), overdue_training_count()


@gauge("vastaja_staff_without_commitment", "Active provider staff with no signed confidentiality commitment")
def without_commitment():
    yield (), len(staff_without_commitment())
