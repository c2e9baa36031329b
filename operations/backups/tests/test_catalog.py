"""What the backup reads from PostgreSQL's catalog: a schema's tables (append-only ones marked),
sequences, migration state and the stored files its rows name."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_every_column_that_names_a_stored_file_is_declared():
    from django.apps import apps
    from django.conf import settings
    from django.db import models

    from tenants.files import stored_file_fields

    tenant_apps = {entry.split(".apps.")[0] for entry in settings.TENANT_APPS}
    declared = {(model, name) for model, names in stored_file_fields().items() for name in names}
    for config in apps.get_app_configs():
        if config.name not in tenant_apps:
            continue
        for model in config.get_models():
            for field in model._meta.get_fields():
                looks_like_a_file = field.name == "audio" or field.name.endswith("_file")
                if looks_like_a_file and isinstance(field, models.CharField):
                    assert (model, field.name) in declared, f"{model._meta.label}.{field.name}"
    assert declared


def test_the_tables_mark_the_append_only_ones_and_leave_out_the_migration_state():
    from operations.backups.catalog import schema_tables

    tables = schema_tables("acme")
    assert "django_migrations" not in tables
    assert {name for name, table in tables.items() if table.append_only} == {
        "auditlog_logentry",
        "audit_accesslogentry",
        "audit_chainlink",
        "audit_unsealedentry",  # the sealer's queue: merged too, so entries waiting stay queued
    }
    assert tables["crm_contact"].columns[0] == "id"
    assert tables["crm_contact"].append_only is False


def test_the_migration_state_is_of_the_tenant_apps_only():
    from operations.backups.catalog import schema_migrations, tenant_app_labels

    labels = tenant_app_labels()
    migrations = schema_migrations("acme")
    assert {"crm", "answering", "audit"} <= {app for app, _name in migrations}
    assert {app for app, _name in migrations} <= set(labels)
    assert "tenants" not in labels  # a shared app: recorded in the schema too, but shapes nothing there
    assert migrations == sorted(migrations)


def test_the_sequences_are_read_with_their_state():
    from operations.backups.catalog import schema_sequences

    sequences = schema_sequences("acme")
    last_value, is_called = sequences["crm_contact_id_seq"]
    assert isinstance(last_value, int)
    assert is_called is True  # the demo created contacts


def test_the_files_named_are_those_the_declared_columns_hold(acme, people):
    from operations.backups.catalog import file_columns, files_named, schema_tables

    _subject, _bystander, _messages, voicemail = people
    columns = file_columns(schema_tables("acme"))
    assert ("answering_voicemail", "audio") in columns
    assert columns == sorted(columns)
    names = files_named("acme", columns)
    assert voicemail.audio in names
    assert "" not in names


def test_the_operator_is_named_unknown_when_the_system_has_no_name_for_them(monkeypatch):
    import getpass

    from operations.backups.catalog import os_user

    def nameless():
        raise KeyError("getpwuid(): uid not found: 1234")

    monkeypatch.setattr(getpass, "getuser", nameless)
    assert os_user() == "unknown"
