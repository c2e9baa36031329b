"""The portal's own pages: the language switch (a bad choice is a 400, a redirect stays on this
host, the choice is remembered in a cookie), and the client admin's guide under Help."""

from __future__ import annotations

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db


def test_switching_the_language_remembers_it_for_a_year(client_for, acme_admin):
    response = client_for("acme.localhost", acme_admin).post("/i18n/setlang/", {"language": "et", "next": "/calls/"})
    assert (response.status_code, response["Location"]) == (302, "/calls/")
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert (cookie.value, cookie["max-age"], cookie["samesite"]) == ("et", 365 * 24 * 3600, "Lax")
    assert cookie["httponly"] is True


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "http://globex.localhost/"])
def test_the_switch_never_redirects_off_this_host(client_for, acme_admin, target):
    response = client_for("acme.localhost", acme_admin).post("/i18n/setlang/", {"language": "en", "next": target})
    assert response["Location"] == "/"


def test_an_unknown_language_is_a_400_and_changes_nothing(client_for, acme_admin):
    response = client_for("acme.localhost", acme_admin).post("/i18n/setlang/", {"language": "klingon"})
    assert response.status_code == 400
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    assert client_for("acme.localhost", acme_admin).get("/i18n/setlang/").status_code == 405


def test_help_shows_the_client_admins_guide_to_the_companys_people_only(client_for, acme_admin, globex_admin):
    page = client_for("acme.localhost", acme_admin).get("/help/")
    assert page.status_code == 200
    assert 'src="screenshots/' not in page.content.decode()  # pointed at /help/screenshots/
    assert client_for("acme.localhost", globex_admin).get("/help/").status_code == 404
    assert client_for("acme.localhost").get("/help/").status_code == 302  # sign in first
