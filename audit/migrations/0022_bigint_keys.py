# Citus schema-based sharding (docs/scaling.md) wants every key and sequence of a distributed schema
# to be bigint. Our models use BigAutoField (DEFAULT_AUTO_FIELD); the third-party tables that live in
# each company's schema were created by their own migrations with 32-bit AutoField keys: auditlog's
# change log, guardian's generic object permissions and the admin's log. Widen them here (a rewrite
# of each table, once per schema); the models still read them as ints. Reversing keeps bigint: a
# narrowing could fail on ids past 2^31 and gains nothing.

from django.db import migrations

TABLES = ("auditlog_logentry", "guardian_userobjectpermission", "guardian_groupobjectpermission", "django_admin_log")

WIDEN = """
DO $$
DECLARE
    name text;
    seq text;
BEGIN
    FOREACH name IN ARRAY ARRAY[%s] LOOP
        EXECUTE format('ALTER TABLE %%I ALTER COLUMN id TYPE bigint', name);
        seq := pg_get_serial_sequence(quote_ident(name), 'id');
        -- An identity column's sequence follows the column; a serial's does not.
        IF seq IS NOT NULL AND (SELECT seqtypid FROM pg_sequence WHERE seqrelid = seq::regclass) <> 'bigint'::regtype THEN
            EXECUTE format('ALTER SEQUENCE %%s AS bigint', seq);
        END IF;
    END LOOP;
END
$$;
""" % ", ".join(f"'{table}'" for table in TABLES)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0021_unsealed_entry"),
        # The migrations that create the tables (none after them touches `id`); depending on their
        # apps' newest would make this a child of the admin's leaf, which tests/test_migrations.py
        # unapplies to make a schema lag.
        ("auditlog", "0001_initial"),
        ("guardian", "0001_initial"),
        ("admin", "0001_initial"),
    ]

    operations = [migrations.RunSQL(WIDEN, reverse_sql=migrations.RunSQL.noop)]
