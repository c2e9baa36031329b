"""The signed inbound-voice webhook producing TwiML, against a trivial Django view.

    .venv/bin/python bench/inbound_webhook.py [--requests 300]

All on a client company's host, in the same process and run, interleaved. Every webhook request
is a new call (a fresh CallSid, signed), so it does the real work: signature check, line and
business hours, caller lookup by blind index, the call's row (one statement), TwiML. Two trivial
views: one under /telephony/, which skips the browser's middleware as the webhooks do
(gates.middleware.signed_webhook), and one under /accounts/, through every middleware: the page a
trivial view of the site costs. Goal (issue 19): webhook / trivial <= 1.5.

`--profile` prints cProfile's top 40 by `BENCH_SORT` (default tottime; `cumtime` shows the call
tree), of the functions whose path matches the regex `BENCH_FILTER`, for example
`BENCH_SORT=cumtime BENCH_FILTER='wt-[a-z]+/(answering|gates|audit|compliance)'`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import types
import urllib.parse

from _bench_db import bench_database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--profile", action="store_true", help="profile 100 webhook requests first")
    args = parser.parse_args()

    with bench_database():
        from django.conf import settings
        from django.http import HttpResponse
        from django.test import Client
        from django.urls import include, path
        from django_tenants.utils import tenant_context

        from answering.models import Line
        from answering.simulator import new_sid, sign
        from crm.services import contact_create
        from tenants.services import client_onboard, provider_ensure, template_ensure

        # The trivial view lives beside the real tenant URLs, behind the same middleware (and, like
        # the webhooks, under /telephony/, which the tenant gate lets anonymous callers reach).
        urls = types.ModuleType("bench_tenant_urls")
        urls.urlpatterns = [
            path("telephony/bench-trivial/", lambda request: HttpResponse("ok")),
            path("accounts/bench-trivial/", lambda request: HttpResponse("ok")),
            path("", include("config.urls_tenant")),
        ]
        sys.modules["bench_tenant_urls"] = urls
        settings.ROOT_URLCONF = "bench_tenant_urls"

        provider_ensure(domain="localhost")
        template_ensure()
        company = client_onboard(slug="hooks", name="Hooks", domain="hooks.localhost")
        with tenant_context(company):
            Line.objects.create(name="Main", phone_number="+3726005001", greeting="Thank you for calling.")
            for i in range(1000):
                contact_create(name=f"Caller {i}", phone_number=f"+37255{i:06d}", actor=None)

        client = Client(HTTP_HOST="hooks.localhost")
        url = "http://hooks.localhost/telephony/voice/"

        def webhook() -> None:
            params = {
                "CallSid": new_sid("CA"),
                "From": "+37255000123",
                "To": "+3726005001",
                "CallStatus": "ringing",
                "Direction": "inbound",
                "AccountSid": settings.TWILIO_ACCOUNT_SID,
            }
            response = client.post(
                "/telephony/voice/",
                urllib.parse.urlencode(params),
                content_type="application/x-www-form-urlencoded",
                HTTP_X_TWILIO_SIGNATURE=sign(auth_token=settings.TWILIO_AUTH_TOKEN, url=url, params=params),
            )
            if response.status_code != 200 or b"<Response>" not in response.content:
                raise SystemExit(f"the webhook answered {response.status_code}: {response.content[:200]!r}")

        def trivial() -> None:
            if client.get("/telephony/bench-trivial/").status_code != 200:
                raise SystemExit("the trivial view failed")

        def trivial_full() -> None:
            if client.get("/accounts/bench-trivial/").status_code != 200:
                raise SystemExit("the trivial view behind every middleware failed")

        for _ in range(20):  # warm up
            webhook()
            trivial()
            trivial_full()
        if "--profile" in sys.argv:
            import cProfile
            import pstats

            profile = cProfile.Profile()
            profile.enable()
            for _ in range(100):
                webhook()
            profile.disable()
            stats = pstats.Stats(profile).sort_stats(os.environ.get("BENCH_SORT", "tottime"))
            stats.print_stats(os.environ.get("BENCH_FILTER", ""), 40)
            from django.db import connection
            from django.test.utils import CaptureQueriesContext

            with CaptureQueriesContext(connection) as captured:
                webhook()
            for query in captured.captured_queries:
                print(f"  {query['time']}s  {query['sql'][:150]}")
        times: dict[str, list[float]] = {"webhook": [], "trivial": [], "trivial_full": []}
        for _ in range(args.requests):
            for name, request in (("webhook", webhook), ("trivial", trivial), ("trivial_full", trivial_full)):
                start = time.perf_counter()
                request()
                times[name].append(time.perf_counter() - start)

    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"signed inbound webhook + TwiML: {medians['webhook'] * 1000:.2f} ms (median of {args.requests})")
    print(f"trivial view, webhook path:     {medians['trivial'] * 1000:.2f} ms")
    print(f"trivial view, every middleware: {medians['trivial_full'] * 1000:.2f} ms")
    print(f"ratio webhook / trivial (webhook path):   {medians['webhook'] / medians['trivial']:.2f}   (goal <= 1.5)")
    print(f"ratio webhook / trivial (every middleware): {medians['webhook'] / medians['trivial_full']:.2f}")


if __name__ == "__main__":
    main()
