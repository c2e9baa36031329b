"""Demo data for billing: each company on one of the three plan shapes the tests work out by hand
(billing/tests/conftest.py), so **Usage & billing** has a plan to show. Only for the rich demo: the
test suite's world has no plan, and each test sets the one it needs."""

from __future__ import annotations

from decimal import Decimal

from billing.models import Plan

DEMO_PLANS = {
    # Ruby-style: 30-second increments, a minute's minimum, minutes included.
    "acme": dict(included_minutes=200, increment_seconds=30, minimum_seconds=60, overage_rate_per_minute="1.20"),
    # 6-second increments, no minimum, wrap-up counted.
    "globex": dict(increment_seconds=6, overage_rate_per_minute="0.95", count_wrap_up=True),
    # Per call, Smith.ai-style, with a little overage on long calls.
    "initech": dict(included_minutes=60, increment_seconds=60, per_call_fee="2.50", overage_rate_per_minute="0.40"),
}


def billing_demo(slug: str, rich: bool) -> None:
    if not rich or slug not in DEMO_PLANS or Plan.objects.exists():
        return
    terms = {k: Decimal(v) if isinstance(v, str) else v for k, v in DEMO_PLANS[slug].items()}
    Plan.objects.create(currency="EUR", **terms)
