"""From the inbound webhook to the agent's socket receiving the offer, against a bare channel-layer
round trip to the same socket, in the same run.

    CHANNEL_LAYER_URL=redis://127.0.0.1:6379/1 .venv/bin/python bench/offer_latency.py [--calls 200]

One agent's console is connected through the real ASGI application (AuthMiddlewareStack, the
consumer, the configured channel layer). Each sample posts a signed inbound call (a fresh CallSid)
to a line in business hours: signature, line and caller lookups, the call's row, the queue's row,
routing with SKIP LOCKED, the push on commit; the clock stops when the console's socket has the
offer. The baseline sends the same event straight to the agent's group. Also printed: the
webhook alone, with no agent available (so no routing hit and no push). Goal: offer / round trip
<= 3.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import urllib.parse

from _bench_db import bench_database


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--queries", action="store_true", help="print the queries of one offered call first")
    parser.add_argument("--profile", action="store_true", help="profile 100 offered calls' webhooks first")
    args = parser.parse_args()

    with bench_database():
        import datetime as dt

        from asgiref.sync import sync_to_async
        from channels.layers import get_channel_layer
        from channels.testing import WebsocketCommunicator
        from django.conf import settings
        from django.test import Client
        from django.utils import timezone
        from django_otp import DEVICE_ID_SESSION_KEY
        from django_otp.plugins.otp_totp.models import TOTPDevice
        from django_tenants.utils import tenant_context
        from guardian.shortcuts import assign_perm

        from answering.models import BusinessHours, Line
        from answering.simulator import new_sid, sign
        from config.asgi import application
        from desk.models import AgentState, Presence, QueuedCall
        from desk.push import agent_group
        from tenants.models import Assignment, User
        from tenants.services import client_onboard, provider_ensure, template_ensure

        layer_name = settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1]
        print(f"bench: channel layer {layer_name} {settings.CHANNEL_LAYER_URL or '(in memory)'}", flush=True)
        provider_ensure(domain="localhost")
        template_ensure()
        company = client_onboard(slug="offers", name="Offers", domain="offers.localhost")
        agent = User.objects.create_user("bench-agent", password="x", provider_role="agent", is_staff=True)
        device = TOTPDevice.objects.create(user=agent, name="bench", confirmed=True)
        Assignment.objects.create(user=agent, company=company)
        with tenant_context(company):
            line = Line.objects.create(name="Main", phone_number="+3726005001", greeting="Thank you for calling.")
            for weekday in range(7):
                BusinessHours.objects.create(line=line, weekday=weekday, opens=dt.time(0), closes=dt.time(23, 59, 59))
            assign_perm("answering.view_line", agent, line)
        Presence.objects.create(user=agent, since=timezone.now(), seen_at=timezone.now())

        browser = Client(HTTP_HOST="localhost")
        browser.force_login(agent)
        session = browser.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        cookie = f"sessionid={session.session_key}".encode()
        telephony = Client(HTTP_HOST="offers.localhost")
        url = "http://offers.localhost/telephony/voice/"

        def webhook() -> None:
            params = {
                "CallSid": new_sid("CA"),
                "From": "+37255000123",
                "To": "+3726005001",
                "CallStatus": "ringing",
                "Direction": "inbound",
                "AccountSid": settings.TWILIO_ACCOUNT_SID,
            }
            response = telephony.post(
                "/telephony/voice/",
                urllib.parse.urlencode(params),
                content_type="application/x-www-form-urlencoded",
                HTTP_X_TWILIO_SIGNATURE=sign(auth_token=settings.TWILIO_AUTH_TOKEN, url=url, params=params),
            )
            if response.status_code != 200 or b"<Enqueue" not in response.content:
                raise SystemExit(f"the webhook answered {response.status_code}: {response.content[:200]!r}")

        def free(state: str) -> None:
            QueuedCall.objects.filter(state__in=["waiting", "offered"]).update(
                state="connected", ended_at=timezone.now()
            )
            Presence.objects.filter(user=agent).update(state=state, idle_since=timezone.now())

        async def run() -> dict[str, list[float]]:
            socket = WebsocketCommunicator(
                application, "/ws/desk/", headers=[(b"cookie", cookie), (b"origin", b"http://localhost")]
            )
            connected, _ = await socket.connect()
            if not connected:
                raise SystemExit("the console's socket was refused")
            await socket.receive_json_from(timeout=5)  # hello
            layer = get_channel_layer()
            times: dict[str, list[float]] = {
                "offer": [],
                "round trip": [],
                "webhook alone": [],
                "webhook answered": [],
            }

            async def offer_once() -> float:
                # The webhook runs as a server runs it, beside the socket: the clock stops when the
                # socket has the offer, whatever the webhook still does after its commit (TwiML,
                # the response, the access log), which Twilio waits for and the agent does not.
                await sync_to_async(free)(AgentState.AVAILABLE)
                await settle()
                start = time.perf_counter()
                request = asyncio.ensure_future(sync_to_async(webhook)())
                while True:
                    event = await socket.receive_json_from(timeout=10)
                    if event.get("kind") == "offer":
                        offered = time.perf_counter() - start
                        break
                await request
                times["webhook answered"].append(time.perf_counter() - start)
                return offered

            async def settle() -> None:
                """Take what the last webhook still sends (the state change after the offer) off the
                socket, so the next sample waits for its own event and nothing else. (A receive that
                times out would stop the consumer: the communicator cancels it.)"""
                await asyncio.sleep(0.02)
                while not socket.output_queue.empty():
                    await socket.receive_json_from(timeout=1)

            async def round_trip(n: int) -> float:
                await settle()
                start = time.perf_counter()
                event = {"kind": "offer", "queued": -n, "company": "offers", "expires_in": 15}
                await layer.group_send(agent_group(agent.pk), {"type": "desk.event", "event": event})
                while (await socket.receive_json_from(timeout=10)).get("queued") != -n:
                    pass
                return time.perf_counter() - start

            async def webhook_alone() -> float:
                await sync_to_async(free)(AgentState.ON_BREAK)
                await settle()
                start = time.perf_counter()
                await sync_to_async(webhook)()
                return time.perf_counter() - start

            for n in range(20):  # warm up
                await offer_once()
                await round_trip(n + 1)
            times["webhook answered"].clear()
            for n in range(args.calls):
                times["offer"].append(await offer_once())
                times["round trip"].append(await round_trip(n + 1))
                times["webhook alone"].append(await webhook_alone())
                if (n + 1) % 50 == 0:
                    print(f"bench: {n + 1}/{args.calls} calls", flush=True)
            await socket.disconnect()
            return times

        if args.queries:
            from django.db import connection
            from django.test.utils import CaptureQueriesContext

            for _ in range(5):  # warm: the keys and the company's id are cached after the first call
                free(AgentState.AVAILABLE)
                webhook()
            free(AgentState.AVAILABLE)
            with CaptureQueriesContext(connection) as captured:
                webhook()
            for query in captured.captured_queries:
                print(f"  {query['time']}s  {query['sql'][:300]}")
        if args.profile:
            import cProfile
            import os
            import pstats

            profile = cProfile.Profile()
            for _ in range(100):
                free(AgentState.AVAILABLE)
                profile.enable()
                webhook()
                profile.disable()
            pstats.Stats(profile).sort_stats(os.environ.get("BENCH_SORT", "cumtime")).print_stats(60)
        times = asyncio.run(run())

    for name, values in times.items():
        print(
            f"{name + ':':18} p50 {statistics.median(values) * 1000:7.2f} ms   p99 {_pct(values, 0.99) * 1000:7.2f} ms"
        )
    p50 = statistics.median(times["offer"]) / statistics.median(times["round trip"])
    p99 = _pct(times["offer"], 0.99) / _pct(times["round trip"], 0.99)
    print(f"ratio offer / round trip: p50 {p50:.2f}, p99 {p99:.2f}   (goal <= 3)")
    webhook = statistics.median(times["webhook alone"])
    print(f"ratio offer / webhook alone: p50 {statistics.median(times['offer']) / webhook:.2f}")


if __name__ == "__main__":
    main()
