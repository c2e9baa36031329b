"""The gate context: who is reading tenant data right now, and through which channel.

Every read of a model of our per-tenant apps goes through its default manager (`GatedManager`),
which asks this module first. With no context active it raises `GateContextMissing`: a request, a
Celery task, a management command or a template tag that reads tenant data without going through
the gate layer fails loudly instead of quietly reading everything.

There are two kinds of context:
- a **person** context, entered only by the channels' bases (`GatedModelAdmin`, `GatedAdminView`,
  the admin's autocomplete, `TenantAPIView`, the portal decorators): the person, their company,
  their Policy and the channel;
- a **system** context, entered by name with a reason by a job that must see everything (a purge,
  a backup, a delivery to the client): `with system_context(reason="retention purge"):`, or the
  same as a decorator. Its reads are logged as that job, on the access log's `task` channel when it
  runs in a Celery task and on the `system` channel otherwise. The reason must be a literal string
  (tests/test_escape_hatches.py lists every one, and the README's table must match it).

The context is cleared at the start of every HTTP request (`GateContextMiddleware`, first in the
chain), every Celery task (task_prerun) and every management command (`BaseCommand.execute`, see
gates/apps.py), and restored when it ends, so nothing inherits a context by accident. The check is
one ContextVar lookup.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import ContextDecorator, contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Any

PERSON = "person"
SYSTEM = "system"


class GateContextMissing(RuntimeError):
    """A tenant model was read outside the gate layer."""


@dataclass(frozen=True)
class GateContext:
    kind: str  # PERSON or SYSTEM
    channel: str  # admin, api, portal, playback, export (person); task or system (system)
    user: Any = None
    company: Any = None
    policy: Any = None
    reason: str = ""  # a system context's job name
    logged: bool = True  # False only for the test suite's own assertions (see below)
    path: str = ""  # the request's path, for the access log
    # What the engine worked out once for this person in this context (their granted object ids).
    memo: dict = dataclasses.field(default_factory=dict, compare=False, repr=False)

    @property
    def is_person(self) -> bool:
        return self.kind == PERSON


def context_memo() -> dict:
    """What may be worked out once for the active context (one request's person, one job) and
    reused until it ends: a page's columns computed together rather than row by row. It ends with
    the context, so nothing in it outlives the request or a change made before the next one."""
    context = _current.get()
    if not isinstance(context, GateContext):
        raise GateContextMissing("context_memo needs an active gate context")
    return context.memo


@dataclass(frozen=True)
class _Cleared:
    """No context: what a request, task or command starts with (`origin` names which)."""

    origin: str


_current: ContextVar[GateContext | _Cleared | None] = ContextVar("vastaja_gate_context", default=None)


def current() -> GateContext | None:
    """The active gate context, or None."""
    context = _current.get()
    return context if isinstance(context, GateContext) else None


def require(model) -> GateContext:
    """The active context, or GateContextMissing naming the model and what to do."""
    context = _current.get()
    if isinstance(context, GateContext):
        return context
    raise GateContextMissing(
        f"{model.__name__} read outside the gate layer: enter a channel base (GatedModelAdmin, "
        "GatedAdminView, TenantAPIView, the portal decorators) or system_context(reason=...)"
    )


def _origin() -> str:
    context = _current.get()
    if isinstance(context, GateContext):
        return "task" if context.channel == "task" else context.kind
    return context.origin if isinstance(context, _Cleared) else ""


@contextmanager
def _entered(context: GateContext | _Cleared | None) -> Iterator[None]:
    token: Token = _current.set(context)
    try:
        yield
    finally:
        _current.reset(token)


def cleared(origin: str):
    """No gate context until the block ends, then the one before it again: the start of a request
    (`origin="request"`), a task (`"task"`) or a command (`"command"`). Also what a test uses to
    read "without the layer"."""
    return _entered(_Cleared(origin))


def person_context(*, user, company, policy, channel: str, path: str = ""):
    """The context of one person reading through a channel base. Entered by the bases only: the
    managers then filter, defer and log every read in it (gates/managers.py)."""
    return _entered(GateContext(kind=PERSON, channel=channel, user=user, company=company, policy=policy, path=path))


def without_personal_fields():
    """The active person's context, reading no personal field at all until the block ends: their
    role and rows as before, every personal field withheld (so nothing is decrypted or logged). A
    page that only checks whether anything changed (a poll) reads this way."""
    context = current()
    if context is None or not context.is_person:
        raise GateContextMissing("without_personal_fields narrows a person's context; none is active")
    bare = dataclasses.replace(context.policy, read=frozenset(), write=frozenset(), all_personal=False)
    return _entered(dataclasses.replace(context, policy=bare))


def as_channel(channel: str):
    """The active person's context again, on another channel (the admin's CSV export, a voicemail
    played): their reads inside the block are logged on that channel."""
    context = current()
    if context is None or not context.is_person:
        raise GateContextMissing(f"the {channel} channel is entered from a person's channel base")
    return _entered(dataclasses.replace(context, channel=channel))


# Lower case: it reads as the context manager it is.
class system_context(ContextDecorator):
    """A job that must see everything, by name: `with system_context(reason="retention purge"):`
    (or `@system_context(reason=...)` on a task or a handler). Its reads are logged as that job."""

    def __init__(self, *, reason: str):
        if not isinstance(reason, str) or not reason.strip():
            raise ValueError("system_context needs a reason: name the job that must see everything")
        self.reason = reason
        self._tokens: list[Token] = []

    def _recreate_cm(self):
        return type(self)(reason=self.reason)  # one context per call of a decorated function

    def __enter__(self):
        channel = "task" if _origin() == "task" else "system"
        self._tokens.append(_current.set(GateContext(kind=SYSTEM, channel=channel, reason=self.reason)))
        return self

    def __exit__(self, *exc):
        _current.reset(self._tokens.pop())
        return False


def dangerously_unlogged_test_context(*, reason: str):
    """The test suite's own context (tests/fixtures.py only): lets a test set up and assert on its
    data without its assertions landing in the access log. Every request, task and command the
    test drives clears it, so the code under test is still checked."""
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError("dangerously_unlogged_test_context needs a reason")
    return _entered(GateContext(kind=SYSTEM, channel="system", reason=reason, logged=False))
