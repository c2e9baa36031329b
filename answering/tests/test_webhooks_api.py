"""Webhook subscriptions through the API: the secret shown once, the URL rule (https and public
addresses in production), client admins only, and nothing of acme's reachable from globex."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import override_settings
from django_tenants.utils import tenant_context

from answering.models import DeliveryAttempt, Line, Message, WebhookEndpoint
from answering.tasks import deliver_webhook
from answering.tests.test_delivery import Receiver
from answering.webhooks import webhook_url_check
from tenants.errors import ApplicationError

pytestmark = pytest.mark.django_db


def _create(client, url="https://hooks.example.com/vastaja", **extra):
    return client.post("/api/v1/webhooks/", {"url": url, **extra}, content_type="application/json")


def test_creating_shows_the_secret_once_and_stores_it_encrypted(acme, client_for, acme_admin):
    api = client_for("acme.localhost", acme_admin)
    created = _create(api, include_caller_number=False)

    assert created.status_code == 201
    body = created.json()
    assert body["secret"].startswith("whsec_")
    assert body["include_caller_number"] is False
    listed = api.get("/api/v1/webhooks/").json()["results"]
    assert [row["id"] for row in listed] == [body["id"]]
    assert "secret" not in listed[0]
    assert "secret" not in api.get(f"/api/v1/webhooks/{body['id']}/").json()
    with tenant_context(acme):
        assert WebhookEndpoint.objects.get(pk=body["id"]).secret == body["secret"]
        with connection.cursor() as cursor:
            cursor.execute("SELECT secret::text FROM answering_webhookendpoint WHERE id = %s", [body["id"]])
            assert body["secret"] not in cursor.fetchone()[0]


def test_change_rotate_and_delete(acme, client_for, acme_admin):
    api = client_for("acme.localhost", acme_admin)
    created = _create(api).json()

    changed = api.patch(
        f"/api/v1/webhooks/{created['id']}/",
        {"url": "https://crm.example.com/in", "active": False},
        content_type="application/json",
    )
    rotated = api.post(f"/api/v1/webhooks/{created['id']}/rotate-secret/")

    assert changed.status_code == 200
    assert changed.json()["url"] == "https://crm.example.com/in"
    assert changed.json()["active"] is False
    assert rotated.status_code == 200
    assert rotated.json()["secret"] != created["secret"]
    assert api.delete(f"/api/v1/webhooks/{created['id']}/").status_code == 204
    with tenant_context(acme):
        assert not WebhookEndpoint.objects.filter(pk=created["id"]).exists()


def test_the_change_log_never_holds_the_secret(acme, client_for, acme_admin):
    from auditlog.models import LogEntry

    api = client_for("acme.localhost", acme_admin)
    created = _create(api).json()
    rotated = api.post(f"/api/v1/webhooks/{created['id']}/rotate-secret/").json()
    with tenant_context(acme):
        entries = LogEntry.objects.filter(object_pk=str(created["id"]), content_type__model="webhookendpoint")
        logged = " ".join(str(entry.changes) for entry in entries)
    assert entries.count() == 2
    assert created["secret"] not in logged
    assert rotated["secret"] not in logged


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.example.com/",
        "not a url",
        "https://user:pw@hooks.example.com/",
        "https://hooks.example.com/?token=1",
        "https://hooks.example.com:99999/",
        "",
        "https://" + "a" * 500 + ".com/",
    ],
)
def test_bad_urls_are_a_400_naming_url(acme, client_for, acme_admin, url):
    response = _create(client_for("acme.localhost", acme_admin), url=url)
    assert response.status_code == 400
    assert response.json().get("field") == "url" or "url" in response.json()
    with tenant_context(acme):
        assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/",
        "https://127.0.0.1/",
        "https://localhost/",
        "https://10.1.2.3/",
        "https://192.168.0.10/",
        "https://169.254.169.254/latest/",
        "https://[::1]/",
        "https://[fd00::1]/",
        "https://0.0.0.0/",
    ],
)
def test_production_refuses_http_and_non_public_addresses(url):
    with pytest.raises(ApplicationError) as refused:
        webhook_url_check(url, production=True)
    assert refused.value.field == "url"


def test_production_accepts_https_to_a_public_address():
    assert webhook_url_check("https://93.184.216.34/hook", production=True) == "https://93.184.216.34/hook"


def test_development_allows_a_local_receiver():
    assert webhook_url_check("http://127.0.0.1:8001/hook", production=False) == "http://127.0.0.1:8001/hook"


@override_settings(PRODUCTION=True)
def test_the_api_applies_the_production_rule(acme, client_for, acme_admin):
    response = _create(client_for("acme.localhost", acme_admin), url="https://127.0.0.1/hook")
    assert response.status_code == 400
    assert response.json()["field"] == "url"


def test_delivery_rechecks_the_url_and_sends_nothing_to_a_private_address(acme):
    receiver = Receiver()
    try:
        with tenant_context(acme):
            line = Line.objects.order_by("pk").first()
            message = Message.objects.create(line=line, caller_name="Mari Maasikas", body="Please call")
            endpoint = WebhookEndpoint.objects.create(url=receiver.url, secret="whsec-test")
            with override_settings(PRODUCTION=True):
                assert deliver_webhook.apply(args=[message.pk, endpoint.pk]).get() == DeliveryAttempt.Status.REFUSED
            assert receiver.received == []
            attempt = message.attempts.get(webhook=endpoint)
            assert attempt.status == DeliveryAttempt.Status.REFUSED
            assert "non-public" in attempt.error or "https" in attempt.error
    finally:
        receiver.close()


def test_members_and_narrow_tokens_are_refused(acme, acme_admin, client_for):
    from api.tokens.services import token_create
    from tenants.models import Membership, User

    member = User.objects.create_user("acme-member-hooks", password="x")
    Membership.objects.create(user=member, company=acme, role=Membership.Role.CLIENT_MEMBER)
    assert client_for("acme.localhost", member).get("/api/v1/webhooks/").status_code == 403
    assert _create(client_for("acme.localhost", member)).status_code == 403

    _, reader = token_create(
        company=acme, user=acme_admin, name="r", scopes=["webhooks:read"], expires_in_days=1, actor=acme_admin
    )
    api = client_for("acme.localhost")
    api.defaults["HTTP_AUTHORIZATION"] = f"Bearer {reader}"
    assert api.get("/api/v1/webhooks/").status_code == 200
    assert _create(api).status_code == 403
    with tenant_context(acme):
        assert not WebhookEndpoint.objects.exists()


def test_globex_reaches_none_of_acmes_webhooks(acme, client_for, acme_admin, globex_admin):
    acme_hook = _create(client_for("acme.localhost", acme_admin)).json()
    globex_api = client_for("globex.localhost", globex_admin)
    acme_host_as_globex = client_for("acme.localhost", globex_admin)
    path = f"/api/v1/webhooks/{acme_hook['id']}/"

    assert acme_hook["url"] not in globex_api.get("/api/v1/webhooks/").content.decode()
    assert globex_api.get(path).status_code == 404
    assert globex_api.patch(path, {"active": False}, content_type="application/json").status_code == 404
    assert globex_api.delete(path).status_code == 404
    assert globex_api.post(f"{path}rotate-secret/").status_code == 404
    assert acme_host_as_globex.get(path).status_code == 404
    with tenant_context(acme):
        assert WebhookEndpoint.objects.get(pk=acme_hook["id"]).active is True
