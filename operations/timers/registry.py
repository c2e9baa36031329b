"""Handlers by timer kind. Apps register theirs when they are imported:

@timer_handler("message.escalate")
def _escalate(target_id: str) -> None: ...
"""

from __future__ import annotations

from collections.abc import Callable

HANDLERS: dict[str, Callable[[str], None]] = {}


def timer_handler(kind: str):
    def register(func: Callable[[str], None]) -> Callable[[str], None]:
        if kind in HANDLERS and HANDLERS[kind] is not func:
            raise ValueError(f"a handler for timer kind '{kind}' is already registered")
        HANDLERS[kind] = func
        return func

    return register
