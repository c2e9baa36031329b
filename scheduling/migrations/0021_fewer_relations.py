"""Fewer relations per company, as answering/migrations/0054_fewer_relations.py says."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('scheduling', '0020_keyed_fields'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='appointment',
                    name='resource',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='appointments', to='scheduling.resource'),
                ),
                migrations.AlterField(
                    model_name='notification',
                    name='key',
                    field=models.CharField(help_text='Idempotency: one send per appointment event', max_length=120),
                ),
                migrations.AlterField(
                    model_name='oncallshift',
                    name='line',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='oncall_shifts', to='answering.line'),
                ),
                migrations.AlterField(
                    model_name='resource',
                    name='feed_token_hash',
                    field=models.CharField(blank=True, max_length=64),
                ),
                migrations.AlterField(
                    model_name='resource',
                    name='label',
                    field=models.CharField(help_text="What callers are told, e.g. 'Room 2'", max_length=120),
                ),
                migrations.AlterField(
                    model_name='service',
                    name='name',
                    field=models.CharField(max_length=120),
                ),
                migrations.AddIndex(
                    model_name='resource',
                    index=models.Index(fields=['feed_token_hash'], name='resource_feed_token_hash'),
                ),
                migrations.AddConstraint(
                    model_name='notification',
                    constraint=models.UniqueConstraint(fields=('key',), name='notification_key_unique'),
                ),
                migrations.AddConstraint(
                    model_name='resource',
                    constraint=models.UniqueConstraint(fields=('label',), name='resource_label_unique'),
                ),
                migrations.AddConstraint(
                    model_name='service',
                    constraint=models.UniqueConstraint(fields=('name',), name='service_name_unique'),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    sql=[
                        'DROP INDEX IF EXISTS "scheduling_appointment_resource_id_e416ee8f"',
                        'DROP INDEX IF EXISTS "scheduling_notification_key_13f8d59d_like"',
                        'ALTER TABLE "scheduling_notification" RENAME CONSTRAINT "scheduling_notification_key_key" TO "notification_key_unique"',
                        'DROP INDEX IF EXISTS "scheduling_oncallshift_line_id_777b708b"',
                        'DROP INDEX IF EXISTS "scheduling_resource_feed_token_hash_853147fd_like"',
                        'ALTER INDEX "scheduling_resource_feed_token_hash_853147fd" RENAME TO "resource_feed_token_hash"',
                        'DROP INDEX IF EXISTS "scheduling_resource_label_3323ad7e_like"',
                        'ALTER TABLE "scheduling_resource" RENAME CONSTRAINT "scheduling_resource_label_key" TO "resource_label_unique"',
                        'DROP INDEX IF EXISTS "scheduling_service_name_f44cbe9b_like"',
                        'ALTER TABLE "scheduling_service" RENAME CONSTRAINT "scheduling_service_name_key" TO "service_name_unique"',
                    ],
                    reverse_sql=[
                        'CREATE INDEX IF NOT EXISTS "scheduling_service_name_f44cbe9b_like" ON "scheduling_service" ("name" varchar_pattern_ops)',
                        'ALTER TABLE "scheduling_service" RENAME CONSTRAINT "service_name_unique" TO "scheduling_service_name_key"',
                        'CREATE INDEX IF NOT EXISTS "scheduling_resource_label_3323ad7e_like" ON "scheduling_resource" ("label" varchar_pattern_ops)',
                        'ALTER TABLE "scheduling_resource" RENAME CONSTRAINT "resource_label_unique" TO "scheduling_resource_label_key"',
                        'CREATE INDEX IF NOT EXISTS "scheduling_resource_feed_token_hash_853147fd_like" ON "scheduling_resource" ("feed_token_hash" varchar_pattern_ops)',
                        'ALTER INDEX "resource_feed_token_hash" RENAME TO "scheduling_resource_feed_token_hash_853147fd"',
                        'CREATE INDEX IF NOT EXISTS "scheduling_oncallshift_line_id_777b708b" ON "scheduling_oncallshift" ("line_id")',
                        'CREATE INDEX IF NOT EXISTS "scheduling_notification_key_13f8d59d_like" ON "scheduling_notification" ("key" varchar_pattern_ops)',
                        'ALTER TABLE "scheduling_notification" RENAME CONSTRAINT "notification_key_unique" TO "scheduling_notification_key_key"',
                        'CREATE INDEX IF NOT EXISTS "scheduling_appointment_resource_id_e416ee8f" ON "scheduling_appointment" ("resource_id")',
                    ],
                )
            ],
        )
    ]
