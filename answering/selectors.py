"""Reads on the answering desk."""

from __future__ import annotations

from django.db.models import QuerySet

from answering.models import Line


def line_list() -> QuerySet[Line]:
    """The current client company's lines (its schema is the connection's)."""
    return Line.objects.order_by("name")
