"""auditlog's `set_actor`, made to nest."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from auditlog.context import auditlog_value, set_actor

from tenants.models import User


@contextlib.contextmanager
def acting_as(actor: User | None) -> Iterator[None]:
    """Name `actor` in the change-log entries written inside, as `set_actor` does, and give the
    enclosing context back on the way out. auditlog's own never resets its context variable, so
    after a nested `set_actor` the enclosing one (the request middleware's, or a service composing
    another) would record no actor any more."""
    try:
        outer = auditlog_value.get()
    except LookupError:
        outer = None
    try:
        with set_actor(actor):
            yield
    finally:
        if outer is not None:
            auditlog_value.set(outer)
