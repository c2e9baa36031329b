"""The client admin's Audits screen in a real browser: the latest signed checkpoint of the company's
audit chain, in the company's zone, the provider's public key, and every checkpoint to download; in
English and in Estonian, and never another company's.

The test commits the checkpoints it signs (the live server must see them) and removes them again
(tests/cleanup.py), so the shared demo world is left as it was."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from unittest import mock

import pytest
from django.utils import formats, translation
from django_tenants.utils import tenant_context

from tests.browser import screenshot
from tests.cleanup import checkpoints_removed_after

TALLINN = zoneinfo.ZoneInfo("Europe/Tallinn")
# 22:40 UTC on 30 November is already 1 December in Tallinn.
SIGNED = dt.datetime(2026, 11, 30, 22, 40, tzinfo=dt.UTC)


@pytest.fixture
def signed(live_db):
    """Two checkpoints of acme's chain (the day before, and SIGNED) and one of globex's, committed."""
    from django.db import connections

    from audit.checkpoints import checkpoint_take
    from tenants.models import ClientCompany

    with checkpoints_removed_after():
        made = {}
        for slug, at in (("acme", SIGNED - dt.timedelta(days=1)), ("acme", SIGNED), ("globex", SIGNED)):
            company = ClientCompany.objects.get(schema_name=slug)
            with tenant_context(company), mock.patch("django.utils.timezone.now", return_value=at):
                made.setdefault(slug, []).append(checkpoint_take())
        yield made
    connections.close_all()


@pytest.mark.parametrize("language", ["en", "et"])
def test_the_audits_screen_shows_and_downloads_the_companys_checkpoints(
    portal, signed, live_server_port, tmp_path, language
):
    from tenants.signing import canonical_bytes, public_key_pem

    latest, theirs = signed["acme"][-1], signed["globex"][0]
    page = portal("acme-admin", "acme")
    if language == "et":
        page.context.add_cookies(
            [{"name": "django_language", "value": "et", "url": f"http://acme.localhost:{live_server_port}"}]
        )
    labels = {
        "en": ("Audits", "Signed checkpoints", "Download all checkpoints", f"Link {latest.seq}"),
        "et": ("Auditid", "Allkirjastatud kontrollpunktid", "Laadi alla kõik kontrollpunktid", f"Lüli {latest.seq}"),
    }[language]
    with translation.override(language):
        local = formats.date_format(SIGNED.astimezone(TALLINN), "SHORT_DATETIME_FORMAT")
    page.goto("/")
    page.locator("nav.portal-nav").get_by_role("link", name=labels[0], exact=True).click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == language
    assert page.get_by_role("heading", name=labels[1]).is_visible()

    facts = page.locator("#latest-checkpoint")
    assert labels[3] in facts.inner_text()
    assert latest.head_hash in facts.inner_text()
    assert local in facts.inner_text()
    assert "Europe/Tallinn" in facts.inner_text()
    assert page.locator("#public-key").inner_text().strip() == public_key_pem().strip()
    assert theirs.head_hash not in page.content()
    if language == "en":
        screenshot(page, "portal-audits")

    with page.expect_download() as download:
        page.get_by_role("link", name=labels[2]).click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.name == "audit-checkpoints-acme.jsonl"
    lines = [json.loads(text) for text in path.read_text().splitlines()]
    assert [line["payload"]["seq"] for line in lines] == [c.seq for c in signed["acme"]]
    assert {line["payload"]["company"] for line in lines} == {"acme"}
    assert theirs.signature not in path.read_text()

    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    key = load_pem_public_key(page.locator("#public-key").inner_text().encode())
    for line in lines:  # what the client can check with the key on the screen and nothing else
        key.verify(bytes.fromhex(line["signature"]), canonical_bytes(line["payload"]))
