"""The data-category taxonomy and the registry of personal fields."""

from __future__ import annotations

import re

import pytest
from django.apps import apps

from tenants import categories
from tenants.categories import TAXONOMY, covers, derived_fields, field_category, is_declared_not_personal

PROJECT_APPS = {
    "tenants",
    "agreements",
    "timers",
    "answering",
    "crm",
    "scheduling",
    "audit",
    "training",
    "risks",
    "monitoring",
}
PERSONAL_LOOKING = re.compile(r"name|phone|email|e_mail|note|body|address|audio|caller|health|birth", re.I)
# Structural fields of the platform's own records that only look personal by name.
PLATFORM_FIELDS = {
    ("tenants", "clientcompany"): {"name", "schema_name", "status_reason"},
    ("tenants", "user"): {"username", "first_name", "last_name", "email"},  # staff and client users' accounts
    ("agreements", "agreementversion"): {"client_signed_by"},
    ("agreements", "subprocessor"): {"name"},
    ("risks", "subprocessordiligence"): {"name"},  # a company's name, as the DPAs list it
    ("timers", "timer"): set(),
}


def test_a_parent_grant_covers_its_children_and_nothing_else():
    assert covers("user.contact", "user.contact.phone_number")
    assert covers("user", "user.health")
    assert covers("user.contact.name", "user.contact.name")
    assert not covers("user.contact.name", "user.contact")
    assert not covers("user.contact", "user.content.private")
    assert not covers("user.con", "user.contact.name")  # a prefix of a word is not a parent


def test_every_category_has_its_parent_in_the_taxonomy():
    for key in TAXONOMY:
        parent = key.rsplit(".", 1)[0]
        assert "." not in key or parent in TAXONOMY, key


def test_every_personal_looking_field_is_declared():
    undeclared = []
    for model in apps.get_models():
        meta = model._meta
        if meta.app_label not in PROJECT_APPS:
            continue
        allowed = PLATFORM_FIELDS.get((meta.app_label, meta.model_name), set())
        for field in meta.get_fields():
            if not getattr(field, "concrete", False) or field.is_relation:
                continue
            if not PERSONAL_LOOKING.search(field.name) or field.name in allowed:
                continue
            if field_category(model, field.name) is not None or field.name in derived_fields(model):
                continue
            if not is_declared_not_personal(model, field.name):
                undeclared.append(f"{meta.label}.{field.name}")
    assert undeclared == [], "declare these with personal_data(...), not_personal(...) or derived(...)"


def test_the_check_catches_a_new_undeclared_field():
    from django.db import models

    class Note(models.Model):  # noqa: DJ008 - a throw-away model for the check itself
        body = models.TextField()

        class Meta:
            app_label = "crm"

    try:
        assert field_category(Note, "body") is None
        assert not is_declared_not_personal(Note, "body")
        assert PERSONAL_LOOKING.search("body")
    finally:
        apps.all_models["crm"].pop("note", None)
        apps.clear_cache()


def test_declarations_refuse_unknown_categories_and_fields():
    from answering.models import Call

    with pytest.raises(ValueError, match="not a data category"):
        categories.personal_data(Call, notes="user.shoe_size")
    from django.core.exceptions import FieldDoesNotExist

    with pytest.raises(FieldDoesNotExist):
        categories.personal_data(Call, no_such_field="user.contact.name")


def test_registry_lists_the_declared_fields():
    listed = {(fc.model._meta.label, fc.field): fc.category for fc in categories.registry()}
    assert listed[("answering.Call", "caller_number")] == "user.contact.phone_number"
    assert listed[("crm.Contact", "health_notes")] == "user.health"


def test_personal_fields_are_encrypted_at_rest(acme):
    from django.db import connection
    from django_tenants.utils import tenant_context

    from crm.models import Contact

    with tenant_context(acme):
        Contact.objects.create(name="Raw Sql Probe", phone_number="+37255512345")
    with connection.cursor() as cursor:
        cursor.execute("SELECT name::text, phone_number::text FROM acme.crm_contact")
        raw = " ".join(str(value) for row in cursor.fetchall() for value in row)
    assert "Raw Sql Probe" not in raw
    assert "+37255512345" not in raw
