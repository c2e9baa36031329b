"""Who the change log names: the actor of a service, around its writes.

auditlog's own `set_actor` does not nest. It overwrites the context that a request (through
AuditlogMiddleware) or an outer service set, and never puts it back, so every change-log entry
written after an inner service returns has no actor. `change_log_actor` puts the surrounding
context back on the way out, and keeps the request's remote address inside the block.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from auditlog.context import auditlog_value, set_actor

from tenants.models import User


@contextlib.contextmanager
def change_log_actor(actor: User | None) -> Iterator[None]:
    """Name `actor` on every change-log entry written in the block. With no actor (a system job),
    the surrounding context is left as it is: the request's user, or nobody."""
    if actor is None:
        yield
        return
    outer = auditlog_value.get(None)
    address = {key: outer[key] for key in ("remote_addr", "remote_port") if outer and outer.get(key) is not None}
    try:
        with set_actor(actor, **address):
            yield
    finally:
        if outer is not None:
            # The outer block's receiver is still connected; it answers only to its own context.
            auditlog_value.set(outer)
