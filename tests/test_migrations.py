import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_every_model_change_has_its_migration():
    try:
        call_command("makemigrations", "--check", "--dry-run", verbosity=0)
    except SystemExit as exc:
        pytest.fail(f"models changed without a migration (makemigrations --check exited {exc.code})")


@pytest.mark.django_db
def test_only_schemas_missing_a_migration_are_migrated(acme, globex):
    from django.db import connection

    from tenants.migrating import migrations_on_disk, schemas_pending

    schemas = [acme.schema_name, globex.schema_name]
    assert schemas_pending(schemas) == []
    last = migrations_on_disk()[-1].split(".", 1)
    with connection.cursor() as cursor:
        cursor.execute(
            f'DELETE FROM "{globex.schema_name}".django_migrations WHERE app = %s AND name = %s', last
        )  # rolled back with the test's transaction
        cursor.execute('CREATE SCHEMA "never_migrated"')
    assert schemas_pending([*schemas, "never_migrated"]) == [globex.schema_name, "never_migrated"]


@pytest.mark.django_db
def test_a_noop_migrate_says_how_many_schemas_it_skipped(capsys):
    from tenants.models import ClientCompany

    call_command("migrate_schemas", tenant=True, interactive=False, verbosity=1)
    schemas = ClientCompany.objects.exclude(schema_name="public").count()
    assert f"{schemas} of {schemas} schemas up to date, 0 to migrate" in capsys.readouterr().out
