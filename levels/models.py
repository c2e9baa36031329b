"""Service levels per line and local hour: ids, counts and durations only, no person in them.

A row is one line's calls that *arrived* in one local hour of the company's zone. The hour is
keyed by its first instant in UTC (`hour_start`), so the hour that occurs twice when the clocks go
back is two rows (same `day` and `hour`, different `utc_offset_minutes`), and the hour skipped when
they go forward has none. Rows hold sums and counts, never averages, so that a day, a week or all
lines together are summed first and divided last (levels/figures.py): an average of averages would
weigh a quiet hour like a busy one.
"""

from django.db import models

from gates.managers import GatedManager
from tenants.categories import not_personal


class LineHourLevels(models.Model):
    # No index of its own: levels_line_hour_once leads with the line.
    line = models.ForeignKey("answering.Line", on_delete=models.CASCADE, related_name="+", db_index=False)
    hour_start = models.DateTimeField(help_text="The local hour's first instant (stored in UTC)")
    day = models.DateField(help_text="The local day, in the company's zone")
    hour = models.PositiveSmallIntegerField(help_text="The local hour, 0 to 23, in the company's zone")
    utc_offset_minutes = models.SmallIntegerField(help_text="The zone's offset in that hour (tells a repeated hour)")
    offered = models.PositiveIntegerField(default=0)
    answered = models.PositiveIntegerField(default=0)
    answered_in_target = models.PositiveIntegerField(default=0)
    abandoned_short = models.PositiveIntegerField(default=0, help_text="Hung up within the short-abandon threshold")
    abandoned_long = models.PositiveIntegerField(default=0, help_text="Hung up after the short-abandon threshold")
    overflowed = models.PositiveIntegerField(default=0)
    transfers = models.PositiveIntegerField(default=0)
    handled = models.PositiveIntegerField(default=0, help_text="Answered calls that have ended")
    wait_seconds = models.FloatField(default=0, help_text="Sum of seconds to answer, over answered calls")
    talk_seconds = models.FloatField(default=0, help_text="Sum of answer-to-end seconds, over handled calls")
    wrap_seconds = models.FloatField(default=0, help_text="Sum of the agents' wrap-up seconds, over handled calls")
    target_seconds = models.PositiveIntegerField(help_text="The line's answer target when counted")
    computed_at = models.DateTimeField(auto_now=True)

    objects = GatedManager()

    class Meta:
        ordering = ["hour_start", "line"]
        verbose_name = "service level (line and hour)"
        verbose_name_plural = "service levels (line and hour)"
        constraints = [models.UniqueConstraint(fields=["line", "hour_start"], name="levels_line_hour_once")]
        indexes = [models.Index(fields=["day", "line"], name="levels_day_line")]

    def __str__(self) -> str:
        return f"{self.line_id} at {self.day} {self.hour:02d}:00"


not_personal(LineHourLevels, "transfers", "handled", reason="counts and durations of calls, no person in them")
