"""The agent console's socket, `/ws/desk/`: it only ever receives ids and states (desk/push.py).

Only provider staff with a desk role who passed the admin's second factor may connect; anyone else
is closed with 4403 before anything is sent. Opening the socket and each heartbeat mark the console
seen; a console unseen for DESK_GRACE_SECONDS makes its agent offline (desk.services.presence_sweep).
"""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django_otp import DEVICE_ID_SESSION_KEY, devices_for_user

from desk.push import agent_group
from desk.services import presence_seen

DESK_ROLES = ("agent", "supervisor")


def console_allowed(scope) -> bool:
    user = scope.get("user")
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if not (user.is_provider_staff and user.provider_role in DESK_ROLES):
        return False
    # The admin's second factor, as django-otp's middleware checks it for pages.
    device_id = scope["session"].get(DEVICE_ID_SESSION_KEY)
    return bool(device_id) and any(d.persistent_id == device_id for d in devices_for_user(user, confirmed=True))


class AgentConsoleConsumer(AsyncJsonWebsocketConsumer):
    """Asynchronous, so that a push is forwarded in the event loop as it arrives: a synchronous
    consumer would hand each event to the process's one thread for synchronous code, and wait there
    behind whatever view that thread is running. Only connecting and the heartbeat read the
    database, in that thread."""

    async def connect(self):
        if not await database_sync_to_async(console_allowed)(self.scope):
            await self.close(code=4403)
            return
        self.user = self.scope["user"]
        self.group = agent_group(self.user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await database_sync_to_async(presence_seen)(user=self.user)
        await self.send_json({"kind": "hello"})

    async def receive_json(self, content, **kwargs):
        if isinstance(content, dict) and content.get("kind") == "heartbeat":
            await database_sync_to_async(presence_seen)(user=self.user)

    async def disconnect(self, code):
        group = getattr(self, "group", None)
        if group:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def desk_event(self, message):
        await self.send_json(message["event"])
