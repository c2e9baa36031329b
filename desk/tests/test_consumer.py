"""The console's socket through the real ASGI application and channel layer: only a desk agent who
passed the admin's second factor gets in; opening it marks the console seen; a push reaches it with
ids and states only."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from desk.models import Presence
from desk.push import push_to_agent
from tenants.models import User


@pytest.fixture
def sessions(django_db_blocker):
    """Committed sessions (the consumer reads them on its own connection), removed afterwards."""
    made = []

    def cookie(username: str, *, second_factor: bool = True) -> bytes:
        with django_db_blocker.unblock():
            user = User.objects.get(username=username)
            client = Client(HTTP_HOST="localhost")
            client.force_login(user)
            session = client.session
            if second_factor:
                session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=user).persistent_id
            session.save()
            made.append(session)
            return f"sessionid={session.session_key}".encode()

    with django_db_blocker.unblock():
        before = {p.user_id: p.seen_at for p in Presence.objects.all()}
    yield cookie
    with django_db_blocker.unblock():
        for session in made:
            session.delete()
        for user_id, seen_at in before.items():
            Presence.objects.filter(user_id=user_id).update(seen_at=seen_at)


def _communicator(cookie: bytes) -> WebsocketCommunicator:
    from config.asgi import application

    return WebsocketCommunicator(
        application,
        "/ws/desk/",
        headers=[(b"cookie", cookie), (b"origin", b"http://localhost"), (b"host", b"localhost")],
    )


def test_an_agent_connects_is_seen_and_receives_ids_and_states(sessions, django_db_blocker):
    cookie = sessions("agent1")

    async def run():
        socket = _communicator(cookie)
        connected, _ = await socket.connect()
        assert connected
        assert await socket.receive_json_from(timeout=5) == {"kind": "hello"}
        from asgiref.sync import sync_to_async

        await sync_to_async(push_to_agent)(user_id=agent_id, kind="offer", queued=7, company="acme", expires_in=15)
        assert await socket.receive_json_from(timeout=5) == {
            "kind": "offer",
            "queued": 7,
            "company": "acme",
            "expires_in": 15,
        }
        await socket.disconnect()

    with django_db_blocker.unblock():
        agent_id = User.objects.get(username="agent1").pk
        async_to_sync(run)()
        assert Presence.objects.get(user_id=agent_id).seen_at is not None


@pytest.mark.parametrize(
    ("username", "second_factor"),
    [("agent1", False), ("dpo", True), ("provider-admin", True), ("acme-admin", False)],
)
def test_no_one_else_gets_a_socket(sessions, django_db_blocker, username, second_factor):
    cookie = sessions(username, second_factor=second_factor)

    async def run():
        socket = _communicator(cookie)
        connected, code = await socket.connect()
        assert not connected
        assert code == 4403

    with django_db_blocker.unblock():
        async_to_sync(run)()


def test_an_anonymous_socket_is_refused(django_db_blocker):
    async def run():
        socket = _communicator(b"")
        connected, code = await socket.connect()
        assert not connected
        assert code == 4403

    with django_db_blocker.unblock():
        async_to_sync(run)()


def test_a_push_carrying_anything_but_ids_and_states_is_refused():
    with pytest.raises(ValueError, match="ids and states only"):
        push_to_agent(user_id=1, kind="offer", queued=1, caller_number="+37255591234")
