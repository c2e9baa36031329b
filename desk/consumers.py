"""The agent console's socket, `/ws/desk/`: it only ever receives ids and states (desk/push.py).

Only provider staff with a desk role who passed the admin's second factor may connect; anyone else
is closed with 4403 before anything is sent. Opening the socket and each heartbeat mark the console
seen; a console unseen for DESK_GRACE_SECONDS makes its agent offline (desk.services.presence_sweep).
"""

from __future__ import annotations

from asgiref.sync import async_to_sync
from channels.generic.websocket import JsonWebsocketConsumer
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


class AgentConsoleConsumer(JsonWebsocketConsumer):
    def connect(self):
        if not console_allowed(self.scope):
            self.close(code=4403)
            return
        self.user = self.scope["user"]
        self.group = agent_group(self.user.pk)
        async_to_sync(self.channel_layer.group_add)(self.group, self.channel_name)
        self.accept()
        presence_seen(user=self.user)
        self.send_json({"kind": "hello"})

    def receive_json(self, content, **kwargs):
        if isinstance(content, dict) and content.get("kind") == "heartbeat":
            presence_seen(user=self.user)

    def disconnect(self, code):
        group = getattr(self, "group", None)
        if group:
            async_to_sync(self.channel_layer.group_discard)(group, self.channel_name)

    def desk_event(self, message):
        self.send_json(message["event"])
