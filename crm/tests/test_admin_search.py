"""Caller search in the admin's contacts: by a local or an international number (read in the
company's region) and by the whole name, through the blind indexes; and a warning when a new
contact's number is already a contact's. From the side of who must not learn: an agent whose DPA
withholds numbers, and a restricted contact the agent holds no grant on."""

from __future__ import annotations

import re

import pytest
from django_tenants.utils import tenant_context

from crm.models import Contact
from crm.services import contact_create

pytestmark = pytest.mark.django_db


def _found(page: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'href="/admin/crm/contact/(\d+)/change/', page)}


@pytest.fixture
def mari(acme):
    with tenant_context(acme):
        return contact_create(name="Mari Tamm", phone_number="+37251239901", actor=None)


@pytest.mark.parametrize("query", ["5123 9901", "51239901", "+372 5123 9901", "+37251239901", "mari  TAMM"])
def test_a_caller_is_found_by_a_local_or_international_number_and_by_name(admin_for, agent1, mari, query):
    page = admin_for(agent1, "acme").get("/admin/crm/contact/", {"q": query}).content.decode()
    assert mari.pk in _found(page)


def test_a_part_of_a_name_or_another_number_finds_nobody(admin_for, agent1, mari):
    client = admin_for(agent1, "acme")
    for query in ("Mari", "5123 9902"):
        assert mari.pk not in _found(client.get("/admin/crm/contact/", {"q": query}).content.decode())


def test_where_numbers_are_withheld_a_number_finds_nobody(admin_for, agent1, globex):
    with tenant_context(globex):
        olga = contact_create(name="Olga Org", phone_number="+37251239902", actor=None)
    client = admin_for(agent1, "globex")
    by_number = client.get("/admin/crm/contact/", {"q": "5123 9902"}).content.decode()
    assert olga.pk not in _found(by_number)  # a match would confirm the number
    assert "+37251239902" not in by_number
    assert olga.pk in _found(client.get("/admin/crm/contact/", {"q": "olga org"}).content.decode())


def _add(client, **fields):
    data = {"name": "", "phone_number": "", "email": "", "address": "", "notes": "", "health_notes": ""}
    return client.post("/admin/crm/contact/add/", data | fields, follow=True)


def test_a_second_contact_with_the_same_number_gets_a_warning(admin_for, agent1, acme, mari):
    response = _add(admin_for(agent1, "acme"), name="M. Tamm", phone_number="5123 9901")
    page = response.content.decode()
    assert "Another contact already has the number +37251239901" in page
    assert f'href="/admin/crm/contact/{mari.pk}/change/"' in page
    with tenant_context(acme):
        assert Contact.objects.filter(phone_bidx=mari.phone_bidx).count() == 2  # a warning, not a refusal
    other = _add(admin_for(agent1, "acme"), name="Someone Else", phone_number="5123 9909").content.decode()
    assert "Another contact already has" not in other


def test_a_restricted_contact_is_not_hinted_at(admin_for, agent1, acme):
    with tenant_context(acme):
        contact_create(name="Vip Person", phone_number="+37251239903", actor=None, restricted=True)
    page = _add(admin_for(agent1, "acme"), name="New Caller", phone_number="5123 9903").content.decode()
    assert "Another contact already has" not in page
