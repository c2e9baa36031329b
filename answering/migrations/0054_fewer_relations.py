"""Fewer relations per company (docs/performance.md, "Relations per company"): a unique or indexed
CharField gets a second, `varchar_pattern_ops` index for LIKE 'prefix%', which no query here asks, so
these are constraints and plain indexes now; and a foreign key's own index goes where a composite
index leads with the same column. In the database the LIKE indexes and the redundant ones are
dropped and the rest renamed in place, so no index is rebuilt in any company's schema."""

import answering.models
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('answering', '0053_list_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='call',
                    name='line',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='calls', to='answering.line'),
                ),
                migrations.AlterField(
                    model_name='call',
                    name='telephony_sid',
                    field=models.CharField(max_length=64, verbose_name='telephony id'),
                ),
                migrations.AlterField(
                    model_name='deliveryattempt',
                    name='key',
                    field=models.CharField(help_text='Idempotency: one send per message event', max_length=120),
                ),
                migrations.AlterField(
                    model_name='line',
                    name='phone_number',
                    field=models.CharField(max_length=20, validators=[answering.models.validate_e164]),
                ),
                migrations.AlterField(
                    model_name='linegroupobjectpermission',
                    name='group',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, to='auth.group'),
                ),
                migrations.AlterField(
                    model_name='lineuserobjectpermission',
                    name='user',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, to=settings.AUTH_USER_MODEL),
                ),
                migrations.AlterField(
                    model_name='message',
                    name='line',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='messages', to='answering.line'),
                ),
                migrations.AlterField(
                    model_name='recording',
                    name='recording_sid',
                    field=models.CharField(max_length=64),
                ),
                migrations.AlterField(
                    model_name='scriptversion',
                    name='script',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='versions', to='answering.script'),
                ),
                migrations.AlterField(
                    model_name='transfer',
                    name='conference_name',
                    field=models.CharField(max_length=64),
                ),
                migrations.AlterField(
                    model_name='voicemail',
                    name='recording_sid',
                    field=models.CharField(max_length=64),
                ),
                migrations.AddConstraint(
                    model_name='call',
                    constraint=models.UniqueConstraint(fields=('telephony_sid',), name='call_telephony_sid_unique'),
                ),
                migrations.AddConstraint(
                    model_name='deliveryattempt',
                    constraint=models.UniqueConstraint(fields=('key',), name='delivery_attempt_key_unique'),
                ),
                migrations.AddConstraint(
                    model_name='line',
                    constraint=models.UniqueConstraint(fields=('phone_number',), name='line_phone_number_unique'),
                ),
                migrations.AddConstraint(
                    model_name='recording',
                    constraint=models.UniqueConstraint(fields=('recording_sid',), name='recording_recording_sid_unique'),
                ),
                migrations.AddConstraint(
                    model_name='transfer',
                    constraint=models.UniqueConstraint(fields=('conference_name',), name='transfer_conference_name_unique'),
                ),
                migrations.AddConstraint(
                    model_name='voicemail',
                    constraint=models.UniqueConstraint(fields=('recording_sid',), name='voicemail_recording_sid_unique'),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    sql=[
                        'DROP INDEX IF EXISTS "answering_call_line_id_538d4f0b"',
                        'DROP INDEX IF EXISTS "answering_call_telephony_sid_7e3da365_like"',
                        'ALTER TABLE "answering_call" RENAME CONSTRAINT "answering_call_telephony_sid_key" TO "call_telephony_sid_unique"',
                        'DROP INDEX IF EXISTS "answering_deliveryattempt_key_758b39c1_like"',
                        'ALTER TABLE "answering_deliveryattempt" RENAME CONSTRAINT "answering_deliveryattempt_key_key" TO "delivery_attempt_key_unique"',
                        'DROP INDEX IF EXISTS "answering_line_phone_number_b8037eb3_like"',
                        'ALTER TABLE "answering_line" RENAME CONSTRAINT "answering_line_phone_number_key" TO "line_phone_number_unique"',
                        'DROP INDEX IF EXISTS "answering_linegroupobjectpermission_group_id_1b44e182"',
                        'DROP INDEX IF EXISTS "answering_lineuserobjectpermission_user_id_141958ef"',
                        'DROP INDEX IF EXISTS "answering_message_line_id_1bf725d7"',
                        'DROP INDEX IF EXISTS "answering_recording_recording_sid_ce31b2a0_like"',
                        'ALTER TABLE "answering_recording" RENAME CONSTRAINT "answering_recording_recording_sid_key" TO "recording_recording_sid_unique"',
                        'DROP INDEX IF EXISTS "answering_scriptversion_script_id_99e25f20"',
                        'DROP INDEX IF EXISTS "answering_transfer_conference_name_22f36aa2_like"',
                        'ALTER TABLE "answering_transfer" RENAME CONSTRAINT "answering_transfer_conference_name_key" TO "transfer_conference_name_unique"',
                        'DROP INDEX IF EXISTS "answering_voicemail_recording_sid_28f4e277_like"',
                        'ALTER TABLE "answering_voicemail" RENAME CONSTRAINT "answering_voicemail_recording_sid_key" TO "voicemail_recording_sid_unique"',
                    ],
                    reverse_sql=[
                        'CREATE INDEX IF NOT EXISTS "answering_voicemail_recording_sid_28f4e277_like" ON "answering_voicemail" ("recording_sid" varchar_pattern_ops)',
                        'ALTER TABLE "answering_voicemail" RENAME CONSTRAINT "voicemail_recording_sid_unique" TO "answering_voicemail_recording_sid_key"',
                        'CREATE INDEX IF NOT EXISTS "answering_transfer_conference_name_22f36aa2_like" ON "answering_transfer" ("conference_name" varchar_pattern_ops)',
                        'ALTER TABLE "answering_transfer" RENAME CONSTRAINT "transfer_conference_name_unique" TO "answering_transfer_conference_name_key"',
                        'CREATE INDEX IF NOT EXISTS "answering_scriptversion_script_id_99e25f20" ON "answering_scriptversion" ("script_id")',
                        'CREATE INDEX IF NOT EXISTS "answering_recording_recording_sid_ce31b2a0_like" ON "answering_recording" ("recording_sid" varchar_pattern_ops)',
                        'ALTER TABLE "answering_recording" RENAME CONSTRAINT "recording_recording_sid_unique" TO "answering_recording_recording_sid_key"',
                        'CREATE INDEX IF NOT EXISTS "answering_message_line_id_1bf725d7" ON "answering_message" ("line_id")',
                        'CREATE INDEX IF NOT EXISTS "answering_lineuserobjectpermission_user_id_141958ef" ON "answering_lineuserobjectpermission" ("user_id")',
                        'CREATE INDEX IF NOT EXISTS "answering_linegroupobjectpermission_group_id_1b44e182" ON "answering_linegroupobjectpermission" ("group_id")',
                        'CREATE INDEX IF NOT EXISTS "answering_line_phone_number_b8037eb3_like" ON "answering_line" ("phone_number" varchar_pattern_ops)',
                        'ALTER TABLE "answering_line" RENAME CONSTRAINT "line_phone_number_unique" TO "answering_line_phone_number_key"',
                        'CREATE INDEX IF NOT EXISTS "answering_deliveryattempt_key_758b39c1_like" ON "answering_deliveryattempt" ("key" varchar_pattern_ops)',
                        'ALTER TABLE "answering_deliveryattempt" RENAME CONSTRAINT "delivery_attempt_key_unique" TO "answering_deliveryattempt_key_key"',
                        'CREATE INDEX IF NOT EXISTS "answering_call_telephony_sid_7e3da365_like" ON "answering_call" ("telephony_sid" varchar_pattern_ops)',
                        'ALTER TABLE "answering_call" RENAME CONSTRAINT "call_telephony_sid_unique" TO "answering_call_telephony_sid_key"',
                        'CREATE INDEX IF NOT EXISTS "answering_call_line_id_538d4f0b" ON "answering_call" ("line_id")',
                    ],
                )
            ],
        )
    ]
