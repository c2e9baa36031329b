"""While the database cannot be reached, pages answer a plain 503 in the person's language and the
API a 503 JSON with Retry-After: never a 500, never a traceback (DEBUG on included), wherever in the
request the database fails. The stopped-server version of this is tests/test_outage_postgres.py."""

from __future__ import annotations

import json

import psycopg
import pytest
from django.db import InterfaceError, OperationalError, connection

pytestmark = pytest.mark.django_db
HOST = "acme.localhost"


def _down(*args, **kwargs):
    raise OperationalError('connection to server on socket "/run/pg/.s.PGSQL.5432" failed: Connection refused')


@pytest.fixture
def debug_on(settings):
    settings.DEBUG = True  # the development default: a 500 here would be Django's technical page


@pytest.fixture
def no_connection(monkeypatch):
    """The connection the host lookup would open cannot be opened."""
    monkeypatch.setattr(connection, "ensure_connection", _down)


def assert_plain_page(response, *, language: str, text: str):
    body = response.content.decode()
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert response["Retry-After"] == "30"
    assert response["Content-Language"] == language
    assert f'<html lang="{language}">' in body
    assert text in body
    for leak in ("Traceback", "OperationalError", "5432", "Server Error"):
        assert leak not in body


def assert_unavailable_json(response):
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == "30"
    body = json.loads(response.content)
    assert body["code"] == "unavailable"
    assert body["detail"]
    assert "5432" not in response.content.decode()


def test_with_no_connection_pages_are_a_plain_503_in_english_by_default(client_for, debug_on, no_connection):
    for path in ("/", "/calls/", "/accounts/login/", "/static/portal/portal.css"):
        assert_plain_page(client_for(HOST).get(path), language="en", text="Temporarily unavailable")
    # The provider's admin too: its host is looked up in the same database.
    assert_plain_page(client_for("localhost").get("/admin/"), language="en", text="Temporarily unavailable")


def test_the_page_speaks_the_language_cookie_or_the_browsers(client_for, settings, debug_on, no_connection):
    client = client_for(HOST)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "et"
    assert_plain_page(client.get("/calls/"), language="et", text="Ajutiselt kättesaamatu")
    browser = client_for(HOST).get("/calls/", HTTP_ACCEPT_LANGUAGE="et-EE,et;q=0.9,en;q=0.5")
    assert_plain_page(browser, language="et", text="Ajutiselt kättesaamatu")


def test_a_form_sent_during_the_outage_is_told_it_may_not_be_saved(client_for, debug_on, no_connection):
    response = client_for(HOST).post("/accounts/login/", {"username": "acme-admin", "password": "x"})
    assert_plain_page(response, language="en", text="may not have been saved")
    assert "may not have been saved" not in client_for(HOST).get("/calls/").content.decode()


def test_with_no_connection_the_api_answers_503_json(client_for, debug_on, no_connection):
    for path in ("/api/v1/calls/", "/api/v1/access-log/?date_to=2026-01-01", "/api/v1/no-such-route/"):
        assert_unavailable_json(client_for(HOST).get(path))
    assert_unavailable_json(client_for(HOST).post("/api/v1/lines/", {}, content_type="application/json"))


def test_the_api_detail_is_in_the_requests_language(client_for, debug_on, no_connection):
    response = client_for(HOST).get("/api/v1/calls/", HTTP_ACCEPT_LANGUAGE="et")
    assert_unavailable_json(response)
    assert json.loads(response.content)["detail"].startswith("Teenus on ajutiselt")


def test_the_database_failing_in_a_view_is_a_503_and_the_next_request_works(
    client_for, acme_admin, debug_on, monkeypatch
):
    client = client_for(HOST, acme_admin)
    with monkeypatch.context() as patched:
        patched.setattr("answering.portal.views.call_list", _down)
        patched.setattr("answering.api.calls.call_list", _down)
        assert_plain_page(client.get("/calls/"), language="en", text="Temporarily unavailable")
        assert_unavailable_json(client.get("/api/v1/calls/"))
    assert client.get("/calls/").status_code == 200  # back: nothing to reset
    assert client.get("/api/v1/calls/").status_code == 200


def test_psycopgs_own_error_is_a_503_too(client_for, acme_admin, debug_on, monkeypatch):
    """Closing a server-side cursor (a queryset's `iterator()`, as a form's choices are read while
    a template renders) talks to the server outside Django's error wrapper: a connection lost there
    raises psycopg's OperationalError, not Django's. It answered 500 under a stopped PostgreSQL."""

    def lost(**kwargs):
        raise psycopg.OperationalError("consuming input failed: server closed the connection unexpectedly")

    client = client_for(HOST, acme_admin)
    with monkeypatch.context() as patched:
        patched.setattr("answering.portal.views.call_list", lost)
        patched.setattr("answering.api.calls.call_list", lost)
        assert_plain_page(client.get("/calls/"), language="en", text="Temporarily unavailable")
        assert_unavailable_json(client.get("/api/v1/calls/"))


def test_the_database_failing_in_a_later_middleware_is_a_503(client_for, acme_admin, debug_on, monkeypatch):
    def lost(self, request):
        raise InterfaceError("connection already closed")

    # Middleware is built with each client's handler: patch first, then make the client. The test
    # client re-raises what Django turned into a response; a real server does not.
    monkeypatch.setattr("portal.middleware.TenantSessionMiddleware.__call__", lost)
    client = client_for(HOST, acme_admin)
    client.raise_request_exception = False
    assert_plain_page(client.get("/calls/"), language="en", text="Temporarily unavailable")
    assert_unavailable_json(client.get("/api/v1/calls/"))


def test_other_errors_are_left_alone(client_for, acme_admin, monkeypatch, settings):
    settings.DEBUG = False
    monkeypatch.setattr("answering.portal.views.call_list", lambda **kwargs: 1 / 0)
    client = client_for(HOST, acme_admin)
    client.raise_request_exception = False
    assert client.get("/calls/").status_code == 500


def test_health_still_names_the_database(client_for, monkeypatch):
    monkeypatch.setattr("operations.monitoring.health.check_database", _down)
    response = client_for("localhost").get("/health/")
    assert response.status_code == 503
    assert "database" in json.loads(response.content)["failed"]
