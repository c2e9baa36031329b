"""The portal's Audits screen shows the company's signed checkpoints and the provider's public key,
and offers every checkpoint for download: the company's own, never another's."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from unittest import mock

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from django.conf import settings
from django.core.management import call_command
from django.utils import formats, translation
from django_tenants.utils import tenant_context

from audit.checkpoints import checkpoint_take
from tenants.models import AuditCheckpoint, Membership, User
from tenants.signing import canonical_bytes, public_key_pem

pytestmark = pytest.mark.django_db
TALLINN = zoneinfo.ZoneInfo("Europe/Tallinn")
# 23:30 UTC is already the next day in Tallinn: a time left in UTC would show the wrong date.
SIGNED = dt.datetime(2026, 11, 30, 23, 30, tzinfo=dt.UTC)


def _take(company, at: dt.datetime = SIGNED) -> AuditCheckpoint:
    with tenant_context(company), mock.patch("django.utils.timezone.now", return_value=at):
        return checkpoint_take()


@pytest.mark.parametrize("language", ["en", "et"])
def test_the_latest_checkpoint_and_the_public_key_are_shown_in_the_companys_zone(
    client_for, acme, acme_admin, language
):
    _take(acme, SIGNED - dt.timedelta(days=1))
    latest = _take(acme)
    client = client_for("acme.localhost", acme_admin)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    page = client.get("/audits/").content.decode()

    assert f'<html lang="{language}">' in page
    with translation.override(language):
        local = formats.date_format(SIGNED.astimezone(TALLINN), "SHORT_DATETIME_FORMAT")
        in_utc = formats.date_format(SIGNED, "SHORT_DATETIME_FORMAT")
    assert local in page
    assert in_utc not in page
    words = {
        "en": ("Signed checkpoints", f"Link {latest.seq}", "Times in Europe/Tallinn", "2 checkpoints"),
        "et": ("Allkirjastatud kontrollpunktid", f"Lüli {latest.seq}", "vööndis Europe/Tallinn", "2 kontrollpunkti"),
    }[language]
    for text in words:
        assert text in page
    assert latest.head_hash in page
    assert public_key_pem().strip() in page


def test_every_checkpoint_downloads_as_json_lines_in_the_format_of_audit_checkpoint_out(
    tmp_path, client_for, acme, acme_admin
):
    out = tmp_path / "out.jsonl"
    call_command("audit_checkpoint", "--tenant", "acme", "--out", str(out))
    call_command("audit_checkpoint", "--tenant", "acme", "--out", str(out))
    response = client_for("acme.localhost", acme_admin).get("/audits/checkpoints.jsonl")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="audit-checkpoints-acme.jsonl"'
    assert response.content.decode() == out.read_text()

    key = client_for("acme.localhost", acme_admin).get("/audits/public-key.pem")
    public = load_pem_public_key(key.content)
    for line in response.content.decode().splitlines():
        line = json.loads(line)
        public.verify(bytes.fromhex(line["signature"]), canonical_bytes(line["payload"]))


def test_globex_never_sees_acmes_checkpoints(client_for, acme, globex, globex_admin):
    acmes = _take(acme)
    client = client_for("globex.localhost", globex_admin)
    page = client.get("/audits/").content.decode()
    assert "No checkpoint has been signed yet." in page
    assert acmes.head_hash not in page
    assert client.get("/audits/checkpoints.jsonl").content == b""

    globexs = _take(globex)
    page = client.get("/audits/").content.decode()
    assert globexs.head_hash in page
    assert acmes.head_hash not in page
    body = client.get("/audits/checkpoints.jsonl").content.decode()
    assert [json.loads(line)["payload"]["company"] for line in body.splitlines()] == ["globex"]
    assert acmes.signature not in body
    # On acme's host, globex's admin is nobody.
    for path in ("/audits/", "/audits/checkpoints.jsonl", "/audits/public-key.pem"):
        assert client_for("acme.localhost", globex_admin).get(path).status_code == 404


def test_a_member_who_is_not_an_admin_gets_nothing(client_for, acme):
    _take(acme)
    member = User.objects.create_user("acme-member-cp", password="x")
    Membership.objects.create(user=member, company=acme, role=Membership.Role.CLIENT_MEMBER)
    client = client_for("acme.localhost", member)
    for path in ("/audits/", "/audits/checkpoints.jsonl", "/audits/public-key.pem"):
        assert client.get(path).status_code == 404
