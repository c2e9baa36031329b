"""The Team page and API: invitations by e-mail, roles, removal; the last admin and oneself are safe,
and one company's admins never reach another's people."""

from __future__ import annotations

import re

import pytest
from auditlog.models import LogEntry
from django.core import mail
from django_tenants.utils import tenant_context

from tenants.errors import ApplicationError
from tenants.models import Membership, User
from tenants.team import member_remove

pytestmark = pytest.mark.django_db


def _member(company, username: str, role: str = Membership.Role.CLIENT_MEMBER) -> Membership:
    user = User.objects.create(username=username, email=f"{username}@example.ee")
    user.set_password("a-long-enough-password-1")
    user.save()
    return Membership.objects.create(user=user, company=company, role=role)


def test_an_invitation_creates_the_person_and_mails_a_link_that_sets_their_password(
    acme, client_for, acme_admin, django_capture_on_commit_callbacks
):
    client = client_for("acme.localhost", acme_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/team/", {"email": "New.Person@Example.ee", "first_name": "New", "role": "client_member"}
        )
    assert response.status_code == 302
    user = User.objects.get(username="new.person@example.ee")
    assert not user.has_usable_password()
    assert user.provider_role == ""
    assert Membership.objects.get(user=user).company == acme
    assert Membership.objects.get(user=user).role == "client_member"
    (message,) = mail.outbox
    assert message.to == ["New.Person@example.ee"]
    link = re.search(r"http://acme\.localhost/accounts/password-reset/\S+/", message.body).group(0)
    # The link is Django's reset-confirm page on acme's host: it sets the first password.
    anonymous = client_for("acme.localhost")
    form_page = anonymous.get(link.removeprefix("http://acme.localhost"), follow=True)
    assert form_page.context["validlink"]
    done = anonymous.post(
        form_page.redirect_chain[-1][0], {"new_password1": "Correct-Horse-42", "new_password2": "Correct-Horse-42"}
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Correct-Horse-42")
    # Used once, the link is spent.
    assert not anonymous.get(link.removeprefix("http://acme.localhost"), follow=True).context["validlink"]
    page = client.get("/team/").content.decode()
    assert "new.person@example.ee" in page.lower()
    with tenant_context(acme):
        logged = LogEntry.objects.filter(content_type__model="membership", object_pk=str(user.memberships.get().pk))
        assert logged.get().actor == acme_admin  # the team change is in acme's change log, with who made it


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"email": "not an address", "role": "client_member"}, "email"),
        ({"email": "admin@acme.example", "role": "client_member"}, "email"),  # acme-admin is already in the team
        ({"email": "someone@example.ee", "role": "owner"}, "role"),
        ({"email": "", "role": "client_member"}, "email"),
    ],
)
def test_a_bad_invitation_is_a_named_error_and_sends_nothing(client_for, acme_admin, data, field):
    before = User.objects.count()
    response = client_for("acme.localhost", acme_admin).post("/team/", data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    api = client_for("acme.localhost", acme_admin).post("/api/v1/team/", data, content_type="application/json")
    assert api.status_code == 400
    assert field in str(api.json())
    assert User.objects.count() == before
    assert mail.outbox == []


def test_provider_staff_cannot_be_invited_as_client_users(client_for, acme_admin, agent1):
    agent1.email = "agent1@provider.example"
    agent1.save()
    response = client_for("acme.localhost", acme_admin).post(
        "/api/v1/team/", {"email": "agent1@provider.example"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "provider_staff"
    assert not Membership.objects.filter(user=agent1).exists()


def test_a_client_user_of_another_company_is_added_and_told(
    acme, globex, client_for, acme_admin, django_capture_on_commit_callbacks
):
    elsewhere = _member(globex, "globex-clerk")
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for("acme.localhost", acme_admin).post(
            "/api/v1/team/",
            {"email": "globex-clerk@example.ee", "role": "client_member"},
            content_type="application/json",
        )
    assert response.status_code == 201
    assert response.json()["password_set"] is True
    assert set(Membership.objects.filter(user=elsewhere.user).values_list("company__schema_name", flat=True)) == {
        "acme",
        "globex",
    }
    assert "/accounts/password-reset/" not in mail.outbox[0].body  # they have a password already


def test_roles_change_but_never_ones_own(acme, client_for, acme_admin):
    colleague = _member(acme, "acme-colleague")
    client = client_for("acme.localhost", acme_admin)
    response = client.post(f"/team/{colleague.pk}/role/", {f"m{colleague.pk}-role": "client_admin"})
    assert response.status_code == 302
    colleague.refresh_from_db()
    assert colleague.role == "client_admin"
    mine = Membership.objects.get(user=acme_admin, company=acme)
    refused = client.patch(f"/api/v1/team/{mine.pk}/", {"role": "client_member"}, content_type="application/json")
    assert refused.status_code == 400
    assert refused.json()["code"] == "self"
    back = client.patch(f"/api/v1/team/{colleague.pk}/", {"role": "client_member"}, content_type="application/json")
    assert back.json()["role"] == "client_member"
    bad = client.patch(f"/api/v1/team/{colleague.pk}/", {"role": "root"}, content_type="application/json")
    assert bad.status_code == 400
    assert "role" in bad.json()
    mine.refresh_from_db()
    assert mine.role == "client_admin"


def test_removing_takes_the_person_out_but_not_oneself(acme, client_for, acme_admin):
    leaving = _member(acme, "acme-leaving")
    assert client_for("acme.localhost", leaving.user).get("/analytics/").status_code == 200
    client = client_for("acme.localhost", acme_admin)
    assert client.post(f"/team/{leaving.pk}/remove/").status_code == 302
    assert not Membership.objects.filter(pk=leaving.pk).exists()
    assert User.objects.filter(pk=leaving.user_id).exists()  # the audit trail still names them
    assert client_for("acme.localhost", leaving.user).get("/analytics/").status_code == 404
    mine = Membership.objects.get(user=acme_admin, company=acme)
    response = client.post(f"/team/{mine.pk}/remove/", follow=True)
    assert "You cannot remove yourself" in response.content.decode()
    assert client.delete(f"/api/v1/team/{mine.pk}/").status_code == 400
    assert Membership.objects.filter(pk=mine.pk).exists()
    other = _member(acme, "acme-leaving-api")
    assert client.delete(f"/api/v1/team/{other.pk}/").status_code == 204
    assert not Membership.objects.filter(pk=other.pk).exists()


def test_members_cannot_manage_the_team(acme, client_for, acme_admin):
    member = _member(acme, "acme-plain-member")
    client = client_for("acme.localhost", member.user)
    mine = Membership.objects.get(user=acme_admin, company=acme)
    assert client.get("/team/").status_code == 404
    assert client.post("/team/", {"email": "x@example.ee", "role": "client_admin"}).status_code == 404
    assert client.post(f"/team/{mine.pk}/remove/").status_code == 404
    assert client.get("/api/v1/team/").status_code == 403
    assert (
        client.patch(
            f"/api/v1/team/{member.pk}/", {"role": "client_admin"}, content_type="application/json"
        ).status_code
        == 403
    )
    member.refresh_from_db()
    assert member.role == "client_member"
    with pytest.raises(ApplicationError):
        member_remove(membership=mine, actor=member.user)


def test_globex_admins_never_reach_acmes_people(acme, globex, client_for, acme_admin, globex_admin):
    acme_person = _member(acme, "acme-only-person")
    own = client_for("globex.localhost", globex_admin)
    listing = own.get("/team/").content.decode()
    assert "acme-only-person" not in listing
    assert "acme-admin" not in listing
    api = own.get("/api/v1/team/?limit=500").json()["results"]
    assert {row["username"] for row in api} == set(
        Membership.objects.filter(company=globex).values_list("user__username", flat=True)
    )
    for call in (
        lambda: own.get(f"/api/v1/team/{acme_person.pk}/"),
        lambda: own.patch(f"/api/v1/team/{acme_person.pk}/", {"role": "client_admin"}, content_type="application/json"),
        lambda: own.delete(f"/api/v1/team/{acme_person.pk}/"),
        lambda: own.post(f"/team/{acme_person.pk}/role/", {f"m{acme_person.pk}-role": "client_admin"}),
        lambda: own.post(f"/team/{acme_person.pk}/remove/"),
    ):
        assert call().status_code == 404
    acme_person.refresh_from_db()
    assert acme_person.role == "client_member"
    assert client_for("acme.localhost", globex_admin).get("/team/").status_code == 404
    assert client_for("acme.localhost", globex_admin).get("/api/v1/team/").status_code == 404
