"""The portal's sign-in forms: a password reset reaches only the company's own client users, and a
one-time code is six to eight digits, spaces allowed."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client

from portal.forms import OneTimeCodeForm, TenantPasswordResetForm
from tenants.models import Membership, User

pytestmark = pytest.mark.django_db


def test_no_link_goes_to_other_companies_users_or_provider_staff():
    User.objects.filter(username="agent1").update(email="agent1@provider.example")
    for host, email in (
        ("globex.localhost", "admin@acme.example"),
        ("acme.localhost", "agent1@provider.example"),
        ("acme.localhost", "nobody@example.com"),
    ):
        response = Client(HTTP_HOST=host).post("/accounts/password-reset/", {"email": email})
        assert response.status_code == 302  # the same page whoever asked: it tells nothing
    assert mail.outbox == []


def test_the_reset_finds_only_the_companys_own_client_users(acme, globex, acme_admin):
    assert list(TenantPasswordResetForm(company=acme).get_users("admin@acme.example")) == [acme_admin]
    assert list(TenantPasswordResetForm(company=globex).get_users("admin@acme.example")) == []
    # A person of both companies gets a link on either host.
    Membership.objects.create(user=acme_admin, company=globex, role=Membership.Role.CLIENT_MEMBER)
    assert list(TenantPasswordResetForm(company=globex).get_users("admin@acme.example")) == [acme_admin]


def test_provider_staff_never_get_a_reset_link_even_with_a_membership(acme):
    agent = User.objects.get(username="agent1")
    User.objects.filter(pk=agent.pk).update(email="agent1@provider.example")
    Membership.objects.create(user=agent, company=acme, role=Membership.Role.CLIENT_MEMBER)
    assert list(TenantPasswordResetForm(company=acme).get_users("agent1@provider.example")) == []


@pytest.mark.parametrize(("typed", "token"), [("123456", "123456"), ("123 456", "123456"), ("12345678", "12345678")])
def test_a_code_may_have_spaces_and_is_kept_as_digits(typed, token):
    form = OneTimeCodeForm({"otp_token": typed})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["otp_token"] == token


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("12a456", "digits"),
        ("abcdef", "digits"),
        ("12345", "min_length"),
        ("123456789", "max_length"),
        ("", "required"),
    ],
)
def test_a_code_that_is_not_six_to_eight_digits_is_refused(typed, code):
    form = OneTimeCodeForm({"otp_token": typed})
    assert not form.is_valid()
    assert [error.code for error in form.errors.as_data()["otp_token"]] == [code]
