"""The signed telephony webhooks skip the browser's middleware (sessions, messages, language,
authentication, the one-time code, the audit actor), from the side of whoever would ride on that:
a session cookie sent to `/telephony/` signs nobody in there, no session or cookie comes out of it,
the signature is still the only way in, and every other path keeps every middleware."""

from __future__ import annotations

import sys
import types
import urllib.parse

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.http import JsonResponse
from django.test import RequestFactory
from django.urls import include, path
from django_tenants.utils import get_public_schema_name, tenant_context

from answering.models import Call
from answering.simulator import new_sid, sign
from gates.middleware import signed_webhook
from tenants.models import ClientCompany

pytestmark = pytest.mark.django_db
HOST = "acme.localhost"
RECEPTION = "+3726001001"


def _probe(request):
    """What the view was handed: who is signed in, and which middleware ran."""
    user = getattr(request, "user", None)
    return JsonResponse(
        {
            "authenticated": bool(user is not None and user.is_authenticated),
            "session": hasattr(request, "session"),
            "messages": hasattr(request, "_messages"),
            "csrf": "CSRF_COOKIE" in request.META,
            "verified": hasattr(user, "is_verified"),
        }
    )


@pytest.fixture
def probe_urls(settings):
    """The company's real URLs, plus the probe under `/telephony/` and under `/accounts/` (both
    reachable anonymously, and `/accounts/` before the second factor)."""
    module = types.ModuleType("signed_webhook_probe_urls")
    module.urlpatterns = [
        path("telephony/probe/", _probe),
        path("accounts/probe/", _probe),
        path("", include("config.urls_tenant")),
    ]
    sys.modules[module.__name__] = module
    settings.ROOT_URLCONF = module.__name__
    yield
    del sys.modules[module.__name__]


def _signed_post(client, path: str, params: dict):
    url = f"http://{HOST}{path}"
    return client.post(
        path,
        urllib.parse.urlencode(params),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=sign(auth_token=settings.TWILIO_AUTH_TOKEN, url=url, params=params),
    )


def _inbound() -> dict:
    return {
        "CallSid": new_sid("CA"),
        "From": "+37251234501",
        "To": RECEPTION,
        "CallStatus": "ringing",
        "Direction": "inbound",
        "AccountSid": "AC" + "0" * 32,
    }


def test_a_session_cookie_sent_to_telephony_signs_nobody_in(acme, acme_admin, client_for, probe_urls):
    client = client_for(HOST, acme_admin)
    # The same cookie elsewhere on the host is a signed-in session, so the difference is the path.
    elsewhere = client.get("/accounts/probe/").json()
    assert elsewhere["authenticated"]
    assert elsewhere["session"]
    assert elsewhere["messages"]
    assert elsewhere["verified"]

    seen = client.post("/telephony/probe/").json()
    assert seen == {"authenticated": False, "session": False, "messages": False, "csrf": False, "verified": False}


def test_a_signed_webhook_sends_no_cookie_and_makes_no_session(acme, probe_urls):
    from django.test import Client

    sessions = Session.objects.count()
    params = _inbound()
    response = _signed_post(Client(HTTP_HOST=HOST), "/telephony/voice/", params)
    assert response.status_code == 200
    assert b"<Response>" in response.content
    assert "Set-Cookie" not in response.headers
    assert not response.cookies
    assert Session.objects.count() == sessions
    # The security headers are still there.
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    with tenant_context(acme):
        assert Call.objects.filter(telephony_sid=params["CallSid"]).exists()


def test_an_unsigned_or_forged_webhook_is_refused_even_with_a_signed_in_session(
    acme, acme_admin, client_for, probe_urls
):
    client = client_for(HOST, acme_admin)
    params = _inbound()
    body = urllib.parse.urlencode(params)
    unsigned = client.post("/telephony/voice/", body, content_type="application/x-www-form-urlencoded")
    forged = client.post(
        "/telephony/voice/",
        body,
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=sign(auth_token="not-the-token", url=f"http://{HOST}/telephony/voice/", params=params),
    )
    assert unsigned.status_code == 403
    assert forged.status_code == 403
    with tenant_context(acme):
        assert not Call.objects.filter(telephony_sid=params["CallSid"]).exists()


def test_other_paths_keep_csrf_and_sessions(acme, acme_admin, client_for, probe_urls):
    from django.test import Client

    # A POST without a CSRF token is refused off the webhook path; the webhooks are csrf_exempt.
    strict = Client(HTTP_HOST=HOST, enforce_csrf_checks=True)
    assert strict.post("/accounts/probe/").status_code == 403
    assert strict.post("/telephony/voice/").status_code == 403  # and unsigned: refused all the same
    # The same signed-in cookie is a session with its user on every other path.
    seen = client_for(HOST, acme_admin).get("/accounts/probe/").json()
    assert seen["authenticated"]
    assert seen["session"]


def test_a_suspended_companys_webhook_is_still_refused_by_the_tenant_gate(globex, probe_urls):
    from django.test import Client

    globex.status = ClientCompany.Status.SUSPENDED
    globex.save(update_fields=["status"])
    response = Client(HTTP_HOST="globex.localhost").post("/telephony/probe/")
    assert response.status_code == 403
    assert b"suspended" in response.content


def test_only_telephony_paths_on_a_company_host_are_signed_webhooks(acme):
    factory = RequestFactory()

    def request(path: str, tenant):
        made = factory.post(path)
        if tenant is not None:
            made.tenant = tenant
        return made

    public = ClientCompany.objects.get(schema_name=get_public_schema_name())
    assert signed_webhook(request("/telephony/voice/", acme))
    assert signed_webhook(request("/telephony/transfer/status/", acme))  # a future endpoint too
    assert not signed_webhook(request("/telephony/voice/", public))  # the provider's host
    assert not signed_webhook(request("/telephony/voice/", None))  # before the host lookup
    assert not signed_webhook(request("/telephonyx/", acme))
    assert not signed_webhook(request("/accounts/login/", acme))
    assert not signed_webhook(request("/portal/telephony/", acme))


def test_in_async_mode_too_the_webhook_path_skips_and_the_others_do_not(acme):
    """Under the ASGI server (daphne in run_demo, `config/asgi.py`) Django runs the chain in async
    mode: the wrappers skip there too, and only there."""
    from asgiref.sync import async_to_sync
    from django.http import HttpResponse

    from gates.middleware import AuthenticationMiddleware, MessageMiddleware, SessionMiddleware

    seen = {}

    async def view(request):
        seen[request.path] = (hasattr(request, "session"), hasattr(request, "_messages"), request.user)
        return HttpResponse("ok")

    chain = SessionMiddleware(AuthenticationMiddleware(MessageMiddleware(view)))
    factory = RequestFactory()
    for path_ in ("/telephony/probe/", "/accounts/probe/"):
        request = factory.post(path_)
        request.COOKIES[settings.SESSION_COOKIE_NAME] = "a-session-key"
        request.tenant = acme
        response = async_to_sync(chain)(request)
        assert response.status_code == 200
    session, messages, user = seen["/telephony/probe/"]
    assert (session, messages, user.is_authenticated) == (False, False, False)
    session, messages, _ = seen["/accounts/probe/"]
    assert (session, messages) == (True, True)
