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


def _public_only_migration() -> tuple[str, str]:
    """A migration of a public-only app that no other migration depends on: in a client schema the
    router lets it change nothing, so deleting its row there leaves a schema that lacks exactly one
    migration, consistent in its history, which only needs recording again."""
    from django.apps import apps
    from django.conf import settings
    from django.db.migrations.loader import MigrationLoader

    def in_tenant_schemas(label: str) -> bool:
        config = apps.get_app_config(label)
        return bool({config.name, f"{type(config).__module__}.{type(config).__name__}"} & set(settings.TENANT_APPS))

    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    return min(
        node for node in graph.leaf_nodes() if not graph.node_map[node].children and not in_tenant_schemas(node[0])
    )


def _tenant_migration() -> tuple[str, str]:
    """The newest migration of the admin's log, which client schemas hold: a change of `choices`
    only, so Django's migrate applies it with no SQL and a lagging schema is really migrated."""
    from django.conf import settings
    from django.db.migrations.loader import MigrationLoader
    from django_tenants.routers import TenantSyncRouter

    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    (leaf,) = graph.leaf_nodes("admin")
    assert not graph.node_map[leaf].children
    assert TenantSyncRouter().app_in_list("admin", settings.TENANT_APPS)
    return leaf


def _forget(schema: str, migration: tuple[str, str]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        quoted = '"' + schema.replace('"', '""') + '"'
        cursor.execute(f"DELETE FROM {quoted}.django_migrations WHERE app = %s AND name = %s", list(migration))
        assert cursor.rowcount == 1


def _client_schemas() -> list[str]:
    from tenants.models import ClientCompany

    return list(ClientCompany.objects.exclude(schema_name="public").values_list("schema_name", flat=True))


@pytest.mark.django_db
def test_an_up_to_date_migrate_runs_migrate_in_no_schema_and_one_statement_decides(capsys):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    schemas = _client_schemas()
    with CaptureQueriesContext(connection) as queries:
        call_command("migrate_schemas", tenant=True, interactive=False, verbosity=1)
    out = capsys.readouterr().out
    assert f"{len(schemas)} of {len(schemas)} schemas up to date, 0 to migrate" in out
    assert "Starting migration" not in out
    reads = [q["sql"] for q in queries.captured_queries if "django_migrations" in q["sql"]]
    assert len(reads) == 2, reads  # which schemas have the table, then one UNION ALL over all of them
    assert all(f'"{schema}".django_migrations' in reads[1] for schema in schemas)
    assert not [q for q in queries.captured_queries if "search_path" in q["sql"].lower()]


@pytest.mark.django_db
def test_the_deciding_queries_do_not_grow_with_the_schemas(acme):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tenants.migrating import schemas_pending

    copies = [f"migrate_copy_{i}" for i in range(9)] + ['migrate "copy"; --']  # a name is quoted, never spliced
    with connection.cursor() as cursor:  # rolled back with the test's transaction
        for copy in copies:
            quoted = '"' + copy.replace('"', '""') + '"'
            cursor.execute(f"CREATE SCHEMA {quoted}")
            cursor.execute(f'CREATE TABLE {quoted}.django_migrations (LIKE "acme".django_migrations INCLUDING ALL)')
            cursor.execute(f'INSERT INTO {quoted}.django_migrations SELECT * FROM "acme".django_migrations')
    _forget(copies[3], _public_only_migration())
    with CaptureQueriesContext(connection) as one:
        assert schemas_pending(["acme"]) == []
    with CaptureQueriesContext(connection) as eleven:
        assert schemas_pending(["acme", *copies]) == [copies[3]]
    assert len(one) == len(eleven) == 2
    _forget(copies[-1], _tenant_migration())
    assert schemas_pending(["acme", *copies]) == [copies[3], copies[-1]]


@pytest.mark.django_db
def test_a_lagging_schema_is_migrated_and_the_others_are_not(capsys, globex):
    from tenants.migrating import schemas_pending

    schemas = _client_schemas()
    migration = _tenant_migration()
    _forget(globex.schema_name, migration)  # rolled back with the test's transaction
    call_command("migrate_schemas", tenant=True, interactive=False, verbosity=1)
    out = capsys.readouterr().out
    assert f"{len(schemas) - 1} of {len(schemas)} schemas up to date, 1 to migrate" in out
    assert "[1/1 (100%) standard:globex] === Starting migration" in out
    assert f"Applying {migration[0]}.{migration[1]}" in out
    assert "migrated 1 schemas" in out
    assert not [line for line in out.splitlines() if "standard:acme" in line or "standard:initech" in line]
    assert schemas_pending(schemas) == []


@pytest.mark.django_db
def test_a_schema_lacking_only_a_public_only_migration_has_it_recorded_without_a_migrate(capsys, acme, globex):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tenants.migrating import schemas_pending

    schemas = _client_schemas()
    public_only, tenant = _public_only_migration(), _tenant_migration()
    _forget(acme.schema_name, public_only)  # all rolled back with the test's transaction
    _forget(globex.schema_name, public_only)
    _forget(globex.schema_name, tenant)  # globex needs a real migrate all the same
    with CaptureQueriesContext(connection) as queries:
        call_command("migrate_schemas", tenant=True, interactive=False, verbosity=1)
    out = capsys.readouterr().out
    assert f"{len(schemas) - 2} of {len(schemas)} schemas up to date, 2 to migrate" in out
    assert f"recorded {public_only[0]}.{public_only[1]} in 1 schemas without migrating" in out
    assert "standard:acme]" not in out
    assert "[1/1 (100%) standard:globex] === Starting migration" in out
    assert f"Applying {public_only[0]}.{public_only[1]}" in out
    assert f"Applying {tenant[0]}.{tenant[1]}" in out
    assert "migrated 1 schemas" in out
    assert "recorded 1," in out
    assert schemas_pending(schemas) == []
    insert = 'INSERT INTO "acme".django_migrations'
    recorded = [q["sql"] for q in queries.captured_queries if q["sql"].startswith(insert)]
    assert len(recorded) == 1, recorded


@pytest.mark.django_db
def test_one_schema_named_with_dash_s_is_checked_and_migrated_alone(capsys, acme, globex):
    from tenants.migrating import schemas_pending

    _forget(globex.schema_name, _tenant_migration())  # rolled back with the test's transaction
    call_command("migrate_schemas", schema_name=acme.schema_name, tenant=True, interactive=False, verbosity=1)
    assert "1 of 1 schemas up to date, 0 to migrate" in capsys.readouterr().out
    assert schemas_pending([globex.schema_name]) == [globex.schema_name]
    call_command("migrate_schemas", schema_name=globex.schema_name, tenant=True, interactive=False, verbosity=1)
    out = capsys.readouterr().out
    assert "0 of 1 schemas up to date, 1 to migrate" in out
    assert "standard:globex] === Starting migration" in out
    assert schemas_pending([globex.schema_name]) == []


@pytest.mark.django_db
def test_the_public_schema_is_migrated_as_before(capsys):
    call_command("migrate_schemas", shared=True, interactive=False, verbosity=1)
    out = capsys.readouterr().out
    assert "[standard:public] === Starting migration" in out
    assert "up to date," not in out  # never skipped: a single schema, checked by Django's migrate itself


@pytest.fixture
def globex_lagging_committed(django_db_blocker):
    """globex without one migration's row, committed, for a migrate in another process; the row is
    put back afterwards whatever the test did."""
    from django.db import connection

    migration = _tenant_migration()
    with django_db_blocker.unblock():
        row = None
        with connection.cursor() as cursor:
            cursor.execute(
                'SELECT app, name, applied FROM "globex".django_migrations WHERE app = %s AND name = %s', migration
            )
            row = cursor.fetchone()
        _forget("globex", migration)
        try:
            yield migration
        finally:
            with connection.cursor() as cursor:
                cursor.execute(
                    'INSERT INTO "globex".django_migrations (app, name, applied) SELECT %s, %s, %s '
                    'WHERE NOT EXISTS (SELECT 1 FROM "globex".django_migrations WHERE app = %s AND name = %s)',
                    [*row, *migration],
                )


def test_the_multiprocessing_executor_migrates_only_the_lagging_schema(globex_lagging_committed, django_db_blocker):
    import subprocess
    import sys
    from pathlib import Path

    from django.db import connection

    from demo.processes import in_subprocess_env
    from tenants.migrating import schemas_pending

    with django_db_blocker.unblock():
        env = in_subprocess_env(connection.settings_dict)
        schemas = _client_schemas()
    env["DJANGO_ENV"] = "development"
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate_schemas", "--tenant", "--executor", "multiprocessing", "-v", "1"],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert f"{len(schemas) - 1} of {len(schemas)} schemas up to date, 1 to migrate" in result.stdout
    assert "multiprocessing:globex] === Starting migration" in result.stdout
    assert "Applying {}.{}".format(*globex_lagging_committed) in result.stdout
    assert "multiprocessing:acme]" not in result.stdout
    with django_db_blocker.unblock():
        assert schemas_pending(schemas) == []


def test_only_public_only_migrations_under_django_tenants_router_are_recorded_without_a_migrate(settings):
    from tenants.migrating import changes_nothing_in_client_schemas

    public_only, tenant = ".".join(_public_only_migration()), ".".join(_tenant_migration())
    assert changes_nothing_in_client_schemas([public_only])
    assert not changes_nothing_in_client_schemas([public_only, tenant])
    settings.DATABASE_ROUTERS = ["tests.test_migrations.OtherRouter", "django_tenants.routers.TenantSyncRouter"]
    assert not changes_nothing_in_client_schemas([public_only])  # another router might let it through


class OtherRouter:
    """A router that decides nothing; its presence alone means django-tenants' is not the only one."""
