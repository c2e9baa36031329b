"""Fewer relations per company, as answering/migrations/0054_fewer_relations.py says."""


from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('outbox', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='outboxentry',
                    name='key',
                    field=models.CharField(help_text='Idempotency: one row per side effect', max_length=200),
                ),
                migrations.AddConstraint(
                    model_name='outboxentry',
                    constraint=models.UniqueConstraint(fields=('key',), name='outbox_key_unique'),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    sql=[
                        'DROP INDEX IF EXISTS "outbox_outboxentry_key_753e36e9_like"',
                        'ALTER TABLE "outbox_outboxentry" RENAME CONSTRAINT "outbox_outboxentry_key_key" TO "outbox_key_unique"',
                    ],
                    reverse_sql=[
                        'CREATE INDEX IF NOT EXISTS "outbox_outboxentry_key_753e36e9_like" ON "outbox_outboxentry" ("key" varchar_pattern_ops)',
                        'ALTER TABLE "outbox_outboxentry" RENAME CONSTRAINT "outbox_key_unique" TO "outbox_outboxentry_key_key"',
                    ],
                )
            ],
        )
    ]
