"""A request's access-log entries, written together as it ends.

A page reads personal fields in many queries, and each evaluation is logged (gates/managers.py).
Rather than one INSERT per query, `AccessLogBufferMiddleware` gives each request a buffer: the
receivers put the request's entries there (`access_log_buffered`), each with the company's schema
and the time of its read, and the middleware writes them in one multi-row INSERT per company when
the response is ready. No chain lock is taken: a trigger queues the rows and the sealer links them
(audit/sealing.py). Outside a request (tasks, commands, sockets) there is no buffer and the
receivers write each entry at once.

The read happened, so it is logged whatever the request's outcome: the buffer is written in a
`finally`, after an error page too. There is no request-wide transaction (ATOMIC_REQUESTS is off),
so a view's rolled-back transaction does not take the entries with it. If the write itself fails,
the response that showed the data is not sent: the error goes up to Django's handler, and the outage
middleware outside this one answers 503 when the database is the cause. A streaming response's reads
happen after the buffer is written, and are written at once.
"""

from __future__ import annotations

from contextlib import nullcontext
from contextvars import ContextVar

from django.db import connection
from django_tenants.utils import schema_context

from gates.context import system_context


class _Buffer:
    def __init__(self) -> None:
        self.entries: list[tuple[str, object]] = []
        self.open = True


_buffer: ContextVar[_Buffer | None] = ContextVar("vastaja_access_log_buffer", default=None)


def access_log_buffered(*, schema: str, entry) -> bool:
    """Keep an unsaved AccessLogEntry for the end of the request; False when there is no request
    buffer (the caller then saves it at once)."""
    buffer = _buffer.get()
    if buffer is None or not buffer.open:
        return False
    buffer.entries.append((schema, entry))
    return True


def _write(buffer: _Buffer) -> None:
    from audit.models import AccessLogEntry

    buffer.open = False  # from now on (a streaming body), entries are written at once
    by_schema: dict[str, list] = {}
    for schema, entry in buffer.entries:
        by_schema.setdefault(schema, []).append(entry)
    buffer.entries = []
    for schema, entries in by_schema.items():
        # Usually the request's own company: no switch (and no `SET search_path`) then.
        switch = schema_context(schema) if schema != connection.schema_name else nullcontext()
        with switch, system_context(reason="write the access log"):
            AccessLogEntry.objects.bulk_create(entries)


class AccessLogBufferMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        buffer = _Buffer()
        token = _buffer.set(buffer)
        try:
            return self.get_response(request)
        finally:
            _buffer.reset(token)
            _write(buffer)
