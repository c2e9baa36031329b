# Appending is cheap, sealing is batched: a read's access-log row is written without the chain's
# lock, and a trigger queues every new access-log and change-log row here, in the statement that
# inserts it (so no code path can forget one and a crash before sealing loses nothing). The sealer
# (audit/sealing.py) links the queued rows into the chain and deletes them, one transaction per
# batch. The queue refuses TRUNCATE, so a restore merges it rather than replacing it.

import django.db.models.functions.datetime
import django.utils.timezone
from django.db import migrations, models


QUEUE = """
CREATE OR REPLACE FUNCTION audit_queue_unsealed() RETURNS trigger AS $$
BEGIN
    -- A restore merging a backup's rows (operations/backups/restore.py) sets this for that INSERT:
    -- they come with their own links and queue rows. A row left out this way by anyone else is
    -- neither chained nor queued, and verify_audit names it.
    IF current_setting('vastaja.restore_merge', true) = 'on' THEN
        RETURN NULL;
    END IF;
    -- The schema of the table written to, not the search path: the queue is that company's.
    EXECUTE format(
        'INSERT INTO %I.audit_unsealedentry (kind, ref_id) SELECT $1, id FROM new_rows ORDER BY id',
        TG_TABLE_SCHEMA
    ) USING TG_ARGV[0];
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_queue_unsealed AFTER INSERT ON audit_accesslogentry
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_queue_unsealed('access');
CREATE TRIGGER audit_queue_unsealed AFTER INSERT ON auditlog_logentry
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_queue_unsealed('change');
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit_unsealedentry
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
"""
UNQUEUE = """
DROP TRIGGER IF EXISTS audit_queue_unsealed ON audit_accesslogentry;
DROP TRIGGER IF EXISTS audit_queue_unsealed ON auditlog_logentry;
DROP TRIGGER IF EXISTS audit_no_truncate ON audit_unsealedentry;
DROP FUNCTION IF EXISTS audit_queue_unsealed();
"""


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0020_keyed_fields'),
    ]

    operations = [
        migrations.AlterField(
            model_name='accesslogentry',
            name='at',
            field=models.DateTimeField(default=django.utils.timezone.now, editable=False),
        ),
        migrations.CreateModel(
            name='UnsealedEntry',
            fields=[
                ('id', models.BigAutoField(primary_key=True, serialize=False)),
                ('kind', models.CharField(choices=[('change', 'Change (auditlog)'), ('access', 'Access')], max_length=6)),
                ('ref_id', models.BigIntegerField()),
                ('queued_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
            ],
            options={
                'ordering': ['id'],
                'indexes': [models.Index(fields=['queued_at'], name='unsealed_queued_at')],
                'constraints': [models.UniqueConstraint(fields=('kind', 'ref_id'), name='unsealed_one_per_row')],
            },
        ),
        migrations.RunSQL(QUEUE, UNQUEUE),
    ]
