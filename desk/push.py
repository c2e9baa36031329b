"""Pushes to agents' consoles over the channel layer: ids and states only, never a caller's data.

A console receives `{"kind": "offer", "queued": 12, "company": "acme", ...}` and fetches the screen
pop, gated, on the agent's own request. A push that cannot be sent (the layer is down) is logged
and dropped: the rows are the truth, and a console reloads its state when it reconnects.
"""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

# The only keys a push may carry: a test walks every push against this list.
PUSH_KEYS = frozenset({"kind", "queued", "company", "state", "reason", "expires_in", "waiting", "transfer"})


def agent_group(user_id: int) -> str:
    return f"desk.agent.{user_id}"


def push_to_agent(*, user_id: int, **event) -> None:
    """Send `event` (ids and states) to every console of this agent."""
    unknown = set(event) - PUSH_KEYS
    if unknown:
        raise ValueError(f"a desk push carries ids and states only, not {sorted(unknown)}")
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(agent_group(user_id), {"type": "desk.event", "event": event})
    except Exception as exc:  # the layer's outage must not undo the routing that committed
        logger.warning("desk push to agent %s not sent: %s", user_id, type(exc).__name__)
