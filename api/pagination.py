"""The API's pagination: limit/offset, with bad values refused (400) rather than silently ignored.

A page never counts or sorts the whole table. It fetches one row more than it shows, which says
whether there is a next page. The count is exact when the page itself ends the list, and
otherwise counted up to `EXACT_COUNT_UP_TO` rows; past that it is PostgreSQL's planner estimate,
and the response says so with `count_is_estimate: true`.
"""

from __future__ import annotations

import json

from django.db import connections
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

EXACT_COUNT_UP_TO = 1_000


def count_estimate(queryset) -> int:
    """The planner's estimate of the rows the queryset would return (no rows are read)."""
    query = queryset.order_by().query
    compiler = query.get_compiler(queryset.db)
    sql, params = compiler.as_sql()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def _count_up_to(rows, cap: int) -> int:
    """How many rows, stopping at `cap`. A plain queryset counts only its ids, so that no
    annotation (a subquery per row) is computed for the count; a grouped or `values()` one counts
    its own rows; a list is its length."""
    if not hasattr(rows, "query"):
        return min(len(rows), cap)
    rows = rows.order_by()
    if rows._fields is None and rows.query.group_by is None:
        rows = rows.values("pk")
    return rows[:cap].count()


class StrictLimitOffsetPagination(LimitOffsetPagination):
    max_limit = 500
    max_offset = 2**31 - 1  # the page is read at its offset, so the database must be able to hold it
    count_is_estimate = False
    has_next = False

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.limit = self.get_limit(request)
        self.offset = self.get_offset(request)
        rows = list(queryset[self.offset : self.offset + self.limit + 1])
        self.has_next = len(rows) > self.limit
        rows = rows[: self.limit]
        if rows and not self.has_next:
            self.count = self.offset + len(rows)  # this page ends the list: nothing more to count
        else:
            self.count = _count_up_to(queryset, EXACT_COUNT_UP_TO + 1)
            if self.count > EXACT_COUNT_UP_TO and hasattr(queryset, "query"):
                self.count_is_estimate = True
                self.count = max(count_estimate(queryset), self.offset + len(rows) + 1, self.count)
        if self.count > self.limit and self.template is not None:
            self.display_page_controls = True
        return rows

    def get_next_link(self):
        if not self.has_next:
            return None
        url = replace_query_param(self.request.build_absolute_uri(), self.limit_query_param, self.limit)
        return replace_query_param(url, self.offset_query_param, self.offset + self.limit)

    def get_paginated_response(self, data):
        return Response(
            {
                "count": self.count,
                "count_is_estimate": self.count_is_estimate,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["properties"]["count"]["description"] = (
            f"Exact up to {EXACT_COUNT_UP_TO:,} rows; past that, the database's estimate."
        )
        response["properties"]["count_is_estimate"] = {"type": "boolean", "example": False}
        response["required"] = ["count", "count_is_estimate", "results"]
        return response

    def _read(self, request, name: str, *, minimum: int, maximum: int | None) -> int | None:
        raw = request.query_params.get(name)
        if raw is None:
            return None
        try:
            value = int(raw)
        except ValueError:
            raise ValidationError({name: ["A whole number is required."]}) from None
        if value < minimum or (maximum is not None and value > maximum):
            bound = f"from {minimum} to {maximum}" if maximum is not None else f"{minimum} or more"
            raise ValidationError({name: [f"Must be {bound}."]})
        return value

    def get_limit(self, request):
        limit = self._read(request, self.limit_query_param, minimum=1, maximum=self.max_limit)
        return self.default_limit if limit is None else limit

    def get_offset(self, request):
        return self._read(request, self.offset_query_param, minimum=0, maximum=self.max_offset) or 0

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.limit_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_limit)
            elif parameter["name"] == self.offset_query_param:
                parameter["schema"].update(minimum=0, maximum=self.max_offset)
        return parameters
