"""The staff's admin, in a real browser: what an agent sees where the DPA grants nothing, the
training banner, and the DPO's workspace. The screenshots illustrate the agent's and the DPO's
guides (docs/)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.browser import demo_totp_code, screenshot

pytestmark = pytest.mark.usefixtures("live_db")


@pytest.fixture
def staff(browser, live_server_port):
    """`staff("agent1")`: a page signed in to the provider's admin with password and TOTP code."""

    from demo.world import DEMO_PASSWORD

    contexts = []

    def sign_in(username: str):
        context = browser.new_context(
            base_url=f"http://localhost:{live_server_port}", viewport={"width": 1280, "height": 860}
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.goto("/admin/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", DEMO_PASSWORD)
        page.fill("#id_otp_token", demo_totp_code(username))
        with page.expect_navigation():  # the page the click leads to, not the sign-in page before it
            page.click("input[type=submit], button[type=submit]")
        assert "/admin/login/" not in page.url, page.content()[:2000]
        return page

    yield sign_in
    for context in contexts:
        context.close()


def _work_for(page, company_name: str) -> None:
    page.goto("/admin/switch/")
    page.get_by_role("button", name=company_name).click()
    page.wait_for_load_state()
    assert company_name in page.locator("#company-switcher").inner_text()


def test_an_agent_sees_restricted_by_dpa_where_globexs_dpa_grants_nothing(staff):
    page = staff("agent1")
    _work_for(page, "Globex Law Firm")
    page.goto("/admin/crm/contact/")
    assert page.get_by_text("restricted by DPA").first.is_visible()
    screenshot(page, "admin-restricted-by-dpa")


def test_an_agent_whose_course_expired_is_told_why_and_what_to_do(staff):
    from compliance.training.models import TrainingRecord

    records = list(TrainingRecord.objects.filter(user__username="agent1", course__code="health-data"))
    original = {record.pk: record.expires_on for record in records}
    try:
        TrainingRecord.objects.filter(pk__in=original).update(expires_on=timezone.localdate() - dt.timedelta(days=1))
        page = staff("agent1")
        _work_for(page, "Acme Dental Clinic")
        page.goto("/admin/answering/call/")
        banner = page.locator("#training-gate")
        assert banner.is_visible()
        assert "health" in banner.inner_text().lower()
        assert page.get_by_text("restricted by DPA").first.is_visible()
        screenshot(page, "admin-training-banner")
    finally:
        for pk, expires_on in original.items():
            TrainingRecord.objects.filter(pk=pk).update(expires_on=expires_on)


def test_the_dpo_workspace(staff):
    page = staff("dpo")
    page.goto("/admin/dpo/")
    assert page.get_by_role("heading", name="Waiting for the DPO", exact=False).is_visible()
    assert page.get_by_role("link", name="Audit evidence packs", exact=False).is_visible()
    screenshot(page, "admin-dpo-workspace")
