"""Sign-in hardening on a company's host: a session is valid only on the host it was signed in on
(a copied cookie is logged out), and whoever owes a one-time code is sent to give it, or refused by
the API, until they do."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.middleware import SESSION_SCHEMA_KEY
from portal.services import company_security_update
from tenants.models import Membership

pytestmark = pytest.mark.django_db


def test_a_session_cookie_from_acme_is_not_valid_on_globex(sign_in, acme_admin, globex):
    # Make acme's admin a member of globex as well, so gate 1 alone would let the session in.
    Membership.objects.create(user=acme_admin, company=globex, role=Membership.Role.CLIENT_ADMIN)
    acme_client = sign_in("acme.localhost")
    assert acme_client.get("/").status_code == 200
    cookie = acme_client.cookies[settings.SESSION_COOKIE_NAME].value

    thief = Client(HTTP_HOST="globex.localhost")
    thief.cookies[settings.SESSION_COOKIE_NAME] = cookie
    response = thief.get("/messages/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")
    assert thief.get("/api/v1/messages/").status_code == 401  # not signed in here: no credential at all
    # The copied session was ended, on its own host too.
    assert acme_client.get("/").status_code == 302


def test_a_session_made_without_signing_in_on_the_host_is_refused(acme_admin):
    client = Client(HTTP_HOST="acme.localhost")
    client.force_login(acme_admin)  # no host, so no binding
    assert client.get("/").status_code == 302


def test_signing_in_on_each_host_gives_a_session_for_that_host_only(sign_in, acme_admin, globex):
    Membership.objects.create(user=acme_admin, company=globex, role=Membership.Role.CLIENT_ADMIN)
    assert sign_in("acme.localhost").get("/").status_code == 200
    assert sign_in("globex.localhost").get("/").status_code == 200


def test_signing_in_binds_the_session_to_the_hosts_company(sign_in):
    assert sign_in("acme.localhost").session[SESSION_SCHEMA_KEY] == "acme"
    assert sign_in("globex.localhost", username="globex-admin").session[SESSION_SCHEMA_KEY] == "globex"


def test_on_the_providers_host_a_session_bound_to_a_company_is_logged_out(admin_for, agent1):
    staff = admin_for(agent1)
    assert staff.get("/admin/").status_code == 200
    session = staff.session
    session[SESSION_SCHEMA_KEY] = "acme"  # a cookie made on acme's host, presented here
    session.save()
    refused = staff.get("/admin/")
    assert refused.status_code == 302
    assert refused["Location"].startswith("/admin/login/")


def test_whoever_owes_a_code_is_sent_to_give_it_with_the_page_they_asked_for(sign_in, acme, acme_admin):
    TOTPDevice.objects.create(user=acme_admin, name="phone", confirmed=True)
    client = sign_in("acme.localhost")
    asked = client.get("/calls/?page=2")
    assert asked.status_code == 302
    assert asked["Location"] == "/accounts/second-factor/?next=%2Fcalls%2F%3Fpage%3D2"
    api = client.get("/api/v1/messages/")
    assert api.status_code == 403
    assert api.json() == {
        "detail": "A one-time code is required: finish signing in on the portal.",
        "code": "second_factor_required",
    }
    # The code's own page, signing out and the language switch stay open.
    assert client.get("/accounts/second-factor/").status_code == 200
    assert client.post("/i18n/setlang/", {"language": "et", "next": "/"}).status_code == 302


def test_a_company_requiring_the_code_leaves_its_people_on_other_hosts_alone(sign_in, acme, acme_admin, globex):
    Membership.objects.create(user=acme_admin, company=globex, role=Membership.Role.CLIENT_ADMIN)
    company_security_update(company=globex, require_totp=True, actor=acme_admin)
    assert sign_in("acme.localhost").get("/calls/").status_code == 200
    assert sign_in("globex.localhost").get("/calls/")["Location"].startswith("/accounts/second-factor/?next=")


def test_an_anonymous_visitor_is_not_asked_for_a_code(acme, acme_admin):
    company_security_update(company=acme, require_totp=True, actor=acme_admin)
    response = Client(HTTP_HOST="acme.localhost").get("/calls/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
