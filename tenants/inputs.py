"""Limits on dates that people type, shared by the portal's forms and the API's serializers
(Django validators run in DRF's fields too).

Python's dates end at 9999-12-31, so a filter up to that day overflows when it adds the day after,
the next week or the company's UTC offset. The range below is far wider than any call, log entry
or appointment, and leaves room for that arithmetic."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

DATE_MIN = dt.date(1900, 1, 1)
DATE_MAX = dt.date(2999, 12, 31)


def date_in_range(value: dt.date | dt.datetime) -> bool:
    day = value.date() if isinstance(value, dt.datetime) else value
    return DATE_MIN <= day <= DATE_MAX


def validate_date_in_range(value: dt.date | dt.datetime) -> None:
    """A form or serializer field's validator: a date (or a datetime's date) within the range."""
    if not date_in_range(value):
        raise ValidationError(
            _("Enter a date between %(first)s and %(last)s."),
            code="date_out_of_range",
            params={"first": DATE_MIN.isoformat(), "last": DATE_MAX.isoformat()},
        )
