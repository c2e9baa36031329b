"""The contacts screen and API: exact search through the blind indexes, editing, the consent
history, and nothing of one company reaching another."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from crm.models import Contact
from crm.selectors import contact_search
from crm.services import consent_record, contact_create
from tenants.errors import ApplicationError
from tenants.models import Membership, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme_only(acme):
    """A contact that exists in acme only (its id does not exist in globex either)."""
    with tenant_context(acme):
        contact = contact_create(
            name="Ülle Õunapuu",
            phone_number="+37255577001",
            email="ulle@acme-only.example",
            notes="Allergic to latex",
            actor=None,
        )
        consent_record(
            contact=contact,
            purpose="sms_reminders",
            granted=True,
            method="call",
            actor=None,
            evidence="Said yes on the call",
        )
        consent_record(contact=contact, purpose="sms_reminders", granted=False, method="portal", actor=None)
    return contact


@pytest.fixture
def acme_member(acme):
    member = User.objects.create_user("acme-member", password="x")
    Membership.objects.create(user=member, company=acme, role=Membership.Role.CLIENT_MEMBER)
    return member


def test_name_search_is_exact_but_ignores_case_and_spacing(acme, acme_only):
    with tenant_context(acme):
        assert list(contact_search(query="ülle   ÕUNAPUU")) == [acme_only]
        assert list(contact_search(query="Ülle")) == []  # a part of a name is not searchable
        assert list(contact_search(query="Õunapuu Ülle")) == []


def test_number_and_address_search_use_the_blind_indexes(acme, acme_only):
    with tenant_context(acme):
        assert list(contact_search(query="+372 5557 7001")) == [acme_only]
        assert list(contact_search(query="ulle@ACME-ONLY.example")) == [acme_only]
        with pytest.raises(ApplicationError) as refused:
            contact_search(query="+372 12")
        assert refused.value.field == "q"
        # The SQL compares an HMAC, never the ciphertext column with LIKE.
        sql = str(contact_search(query="Ülle Õunapuu").query)
        assert "name_bidx" in sql
        assert "LIKE" not in sql.upper()


def test_an_anonymised_contact_cannot_be_found_by_its_old_name(acme, acme_only):
    from django.utils import timezone

    from audit.retention import _targets

    purge = next(target for target in _targets() if target.name == "inactive contacts")
    with tenant_context(acme):
        Contact.objects.filter(pk=acme_only.pk).update(**purge.changes(timezone.now()))
        assert list(contact_search(query="Ülle Õunapuu")) == []


def test_portal_lists_searches_and_shows_consent_history(client_for, acme_admin, acme_only):
    client = client_for("acme.localhost", acme_admin)
    listing = client.get("/contacts/").content.decode()
    assert "Ülle Õunapuu" in listing
    assert "Mari Tamm" in listing

    found = client.get("/contacts/", {"q": "ülle õunapuu"}).content.decode()
    assert "Ülle Õunapuu" in found
    assert "Mari Tamm" not in found
    partial = client.get("/contacts/", {"q": "+37255577001"}, HTTP_HX_REQUEST="true").content.decode()
    assert "Ülle Õunapuu" in partial
    assert "<html" not in partial

    bad = client.get("/contacts/", {"q": "+372 12"})
    assert bad.status_code == 200
    assert "is not a valid phone number" in bad.content.decode()

    detail = client.get(f"/contacts/{acme_only.pk}/").content.decode()
    assert "Allergic to latex" in detail
    assert "Said yes on the call" in detail
    assert "withdrawn" in detail
    assert "given" in detail


def test_the_screen_says_exactly_what_a_search_matched(client_for, acme_admin, acme_only):
    """A name matches only whole: the box says so before a search, and the answer says what the
    query was matched against (a whole name, a number or an address) and why a part finds nothing."""
    client = client_for("acme.localhost", acme_admin)
    page = client.get("/contacts/").content.decode()
    assert "Finds exact matches only: a whole name in any case or spacing" in page

    def search(query):
        return client.get("/contacts/", {"q": query}, HTTP_HX_REQUEST="true").content.decode()

    assert "Contacts with that whole name: 1." in search("ülle  õunapuu")
    assert "Contacts with this phone number: 1." in search("+372 555 77001")
    assert "Contacts with this e-mail address: 1." in search("ulle@acme-only.example")
    part = search("Ülle")
    assert "No contact has that whole name. A name matches only in full, not a part of it" in part
    assert "No contact has this number or address." in search("nobody@acme-only.example")


def test_portal_edit_saves_and_shows_errors_inline(client_for, acme, acme_admin, acme_only):
    client = client_for("acme.localhost", acme_admin)
    form = {
        "name": "Ülle Õunapuu-Kask",
        "phone_number": "5550",
        "email": "",
        "address": "",
        "notes": "",
        "health_notes": "",
        "lawful_basis": "contract",
    }
    refused = client.post(f"/contacts/{acme_only.pk}/edit/", form)
    assert refused.status_code == 200
    assert "is not a phone number" in refused.content.decode()
    with tenant_context(acme):
        kept = Contact.objects.get(pk=acme_only.pk)
        assert (kept.name, kept.phone_number) == ("Ülle Õunapuu", "+37255577001")  # nothing half-saved

    form["phone_number"] = "+372 5557 7002"
    saved = client.post(f"/contacts/{acme_only.pk}/edit/", form)
    assert saved.status_code == 302
    with tenant_context(acme):
        assert list(contact_search(query="ülle õunapuu-kask")) == [acme_only]
        assert Contact.objects.get(pk=acme_only.pk).phone_number == "+37255577002"


def test_portal_create_contact(client_for, acme, acme_admin):
    client = client_for("acme.localhost", acme_admin)
    response = client.post(
        "/contacts/new/",
        {"name": "Uus Inimene", "phone_number": "+37255577123", "lawful_basis": "consent", "health_notes": "none"},
    )
    assert response.status_code == 302
    with tenant_context(acme):
        contact = contact_search(query="uus inimene").get()
        assert contact.health_notes == "none"
        assert contact.lawful_basis == "consent"


def test_a_member_reads_but_cannot_edit(client_for, acme_member, acme_only):
    client = client_for("acme.localhost", acme_member)
    assert client.get("/contacts/").status_code == 200
    assert "Edit contact" not in client.get(f"/contacts/{acme_only.pk}/").content.decode()
    assert client.get(f"/contacts/{acme_only.pk}/edit/").status_code == 404
    assert client.post("/contacts/new/", {"name": "X", "lawful_basis": "consent"}).status_code == 404
    assert client.get(f"/api/v1/contacts/{acme_only.pk}/").status_code == 200
    patched = client.patch(f"/api/v1/contacts/{acme_only.pk}/", {"name": "Changed"}, content_type="application/json")
    assert patched.status_code == 403
    created = client.post("/api/v1/contacts/", {"name": "Member made"}, content_type="application/json")
    assert created.status_code == 403


def test_api_search_create_update_and_consents(client_for, acme, acme_admin, acme_only):
    client = client_for("acme.localhost", acme_admin)
    found = client.get("/api/v1/contacts/", {"q": "+37255577001"}).json()
    assert [row["id"] for row in found["results"]] == [acme_only.pk]
    assert found["results"][0]["notes"] == "Allergic to latex"

    payload = {"name": "Api Person", "phone_number": "+372 5557 7999", "lawful_basis": "consent"}
    created = client.post("/api/v1/contacts/", payload, content_type="application/json")
    assert created.status_code == 201
    assert created.json()["phone_number"] == "+37255577999"

    patched = client.patch(
        f"/api/v1/contacts/{acme_only.pk}/", {"email": "new@acme-only.example"}, content_type="application/json"
    )
    assert patched.status_code == 200
    assert patched.json()["email"] == "new@acme-only.example"

    consents = client.get(f"/api/v1/contacts/{acme_only.pk}/consents/").json()["results"]
    assert [(c["purpose"], c["granted"]) for c in consents] == [("sms_reminders", False), ("sms_reminders", True)]


@pytest.mark.parametrize(
    ("method", "path", "payload", "field"),
    [
        ("post", "/api/v1/contacts/", {"name": "Bad", "phone_number": "5550"}, "phone_number"),
        ("post", "/api/v1/contacts/", {"phone_number": "+37255577888"}, "name"),
        ("post", "/api/v1/contacts/", {"name": "Bad", "email": "not-an-address"}, "email"),
        ("post", "/api/v1/contacts/", {"name": "Bad", "lawful_basis": "because"}, "lawful_basis"),
        ("get", "/api/v1/contacts/?ordering=name", None, "ordering"),
        ("get", "/api/v1/contacts/?q=%2B37212", None, "q"),
    ],
)
def test_api_bad_input_is_a_400_naming_the_field(client_for, acme, acme_admin, method, path, payload, field):
    with tenant_context(acme):
        before = Contact.objects.count()
    client = client_for("acme.localhost", acme_admin)
    response = getattr(client, method)(path, payload, content_type="application/json") if payload else client.get(path)
    assert response.status_code == 400
    body = response.json()
    assert body.get("field") == field or field in body
    with tenant_context(acme):
        assert Contact.objects.count() == before


def test_globex_sees_nothing_of_acme(client_for, globex, globex_admin, acme_only):
    with tenant_context(globex):
        assert not Contact.objects.filter(pk=acme_only.pk).exists()
    client = client_for("globex.localhost", globex_admin)
    for path in [
        f"/contacts/{acme_only.pk}/",
        f"/contacts/{acme_only.pk}/edit/",
        f"/api/v1/contacts/{acme_only.pk}/",
        f"/api/v1/contacts/{acme_only.pk}/consents/",
    ]:
        assert client.get(path).status_code == 404, path
    assert (
        client.patch(f"/api/v1/contacts/{acme_only.pk}/", {"name": "x"}, content_type="application/json").status_code
        == 404
    )
    for query in ["", "Ülle Õunapuu", "+37255577001", "ulle@acme-only.example"]:
        page = client.get("/contacts/", {"q": query}, HTTP_HX_REQUEST="true").content.decode()
        assert "Õunapuu" not in page
        assert f"/contacts/{acme_only.pk}/" not in page
        assert "Õunapuu" not in client.get("/api/v1/contacts/", {"q": query}).content.decode()
    # and on acme's own host, globex's admin is not let in at all
    assert client_for("acme.localhost", globex_admin).get(f"/contacts/{acme_only.pk}/").status_code == 404
    assert client_for("acme.localhost", globex_admin).get("/api/v1/contacts/").status_code == 404


def test_service_errors_speak_the_persons_language():
    from django.utils import translation

    from crm.blind_index import phone_normalise
    from tenants.errors import ApplicationError

    with translation.override("et"), pytest.raises(ApplicationError) as refused:
        phone_normalise("12")
    assert "ei ole telefoninumber" in str(refused.value)
    with translation.override("en"), pytest.raises(ApplicationError) as refused:
        phone_normalise("12")
    assert "is not a phone number" in str(refused.value)
