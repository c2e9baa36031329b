"""Answering lines: the client company's numbers that callers dial."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from answering.models import Line
from tenants.changelog import change_log_actor
from tenants.errors import ApplicationError
from tenants.models import User


def line_create(*, name: str, phone_number: str, greeting: str = "", actor: User | None = None) -> Line:
    """Create an answering line in the current client company's schema."""
    if Line.objects.filter(phone_number=phone_number).exists():
        raise ApplicationError(f"the number {phone_number} is already a line", field="phone_number")
    line = Line(name=name, phone_number=phone_number, greeting=greeting)
    try:
        line.full_clean()
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise ApplicationError(messages[0], field=field) from None
    with transaction.atomic(), change_log_actor(actor):
        line.save()
    return line
