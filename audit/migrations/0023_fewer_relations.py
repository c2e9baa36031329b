"""Fewer relations per company, as answering/migrations/0054_fewer_relations.py says."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0022_bigint_keys'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='accesslogentry',
                    name='user',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
                ),
                migrations.AlterField(
                    model_name='chainlink',
                    name='hash',
                    field=models.CharField(max_length=64),
                ),
                migrations.AlterField(
                    model_name='linedaystats',
                    name='line',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='answering.line'),
                ),
                migrations.AddConstraint(
                    model_name='chainlink',
                    constraint=models.UniqueConstraint(fields=('hash',), name='chain_link_hash_unique'),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    sql=[
                        'DROP INDEX IF EXISTS "audit_accesslogentry_user_id_df6d7662"',
                        'DROP INDEX IF EXISTS "audit_chainlink_hash_429a6c03_like"',
                        'ALTER TABLE "audit_chainlink" RENAME CONSTRAINT "audit_chainlink_hash_key" TO "chain_link_hash_unique"',
                        'DROP INDEX IF EXISTS "audit_linedaystats_line_id_5fe4ffce"',
                    ],
                    reverse_sql=[
                        'CREATE INDEX IF NOT EXISTS "audit_linedaystats_line_id_5fe4ffce" ON "audit_linedaystats" ("line_id")',
                        'CREATE INDEX IF NOT EXISTS "audit_chainlink_hash_429a6c03_like" ON "audit_chainlink" ("hash" varchar_pattern_ops)',
                        'ALTER TABLE "audit_chainlink" RENAME CONSTRAINT "chain_link_hash_unique" TO "audit_chainlink_hash_key"',
                        'CREATE INDEX IF NOT EXISTS "audit_accesslogentry_user_id_df6d7662" ON "audit_accesslogentry" ("user_id")',
                    ],
                )
            ],
        )
    ]
