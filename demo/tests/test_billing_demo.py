"""The rich demo puts each company on a billing plan; the test suite's world has none."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from billing.models import Plan
from demo.billing import billing_demo

pytestmark = pytest.mark.django_db


def test_the_rich_demo_seeds_one_plan_a_company_and_only_once(acme, initech):
    with tenant_context(acme):
        assert not Plan.objects.exists()
        billing_demo("acme", rich=False)
        assert not Plan.objects.exists()
        billing_demo("acme", rich=True)
        billing_demo("acme", rich=True)
        plan = Plan.objects.get()
        assert (plan.increment_seconds, plan.minimum_seconds, plan.included_minutes) == (30, 60, 200)
    with tenant_context(initech):
        billing_demo("initech", rich=True)
        assert str(Plan.objects.get().per_call_fee) == "2.5000"
