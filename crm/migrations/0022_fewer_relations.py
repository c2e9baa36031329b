"""Fewer relations per company, as answering/migrations/0054_fewer_relations.py says."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('crm', '0021_purge_keyset'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='contact',
                    name='email_bidx',
                    field=models.CharField(blank=True, editable=False, max_length=64),
                ),
                migrations.AlterField(
                    model_name='contact',
                    name='name_bidx',
                    field=models.CharField(blank=True, editable=False, max_length=64),
                ),
                migrations.AlterField(
                    model_name='contact',
                    name='phone_bidx',
                    field=models.CharField(blank=True, editable=False, max_length=64),
                ),
                migrations.AlterField(
                    model_name='contactgroupobjectpermission',
                    name='group',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, to='auth.group'),
                ),
                migrations.AlterField(
                    model_name='contactphone',
                    name='number_bidx',
                    field=models.CharField(editable=False, max_length=64),
                ),
                migrations.AlterField(
                    model_name='contactuserobjectpermission',
                    name='user',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, to=settings.AUTH_USER_MODEL),
                ),
                migrations.AddIndex(
                    model_name='contact',
                    index=models.Index(fields=['phone_bidx'], name='contact_phone_bidx'),
                ),
                migrations.AddIndex(
                    model_name='contact',
                    index=models.Index(fields=['email_bidx'], name='contact_email_bidx'),
                ),
                migrations.AddIndex(
                    model_name='contact',
                    index=models.Index(fields=['name_bidx'], name='contact_name_bidx'),
                ),
                migrations.AddIndex(
                    model_name='contactphone',
                    index=models.Index(fields=['number_bidx'], name='contactphone_number_bidx'),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    sql=[
                        'DROP INDEX IF EXISTS "crm_contact_email_bidx_fce19a31_like"',
                        'ALTER INDEX "crm_contact_email_bidx_fce19a31" RENAME TO "contact_email_bidx"',
                        'DROP INDEX IF EXISTS "crm_contact_name_bidx_92efdea3_like"',
                        'ALTER INDEX "crm_contact_name_bidx_92efdea3" RENAME TO "contact_name_bidx"',
                        'DROP INDEX IF EXISTS "crm_contact_phone_bidx_907ffc96_like"',
                        'ALTER INDEX "crm_contact_phone_bidx_907ffc96" RENAME TO "contact_phone_bidx"',
                        'DROP INDEX IF EXISTS "crm_contactgroupobjectpermission_group_id_0b1790e7"',
                        'DROP INDEX IF EXISTS "crm_contactuserobjectpermission_user_id_fd4d4404"',
                        'DROP INDEX IF EXISTS "crm_contactphone_number_bidx_aba35399_like"',
                        'ALTER INDEX "crm_contactphone_number_bidx_aba35399" RENAME TO "contactphone_number_bidx"',
                    ],
                    reverse_sql=[
                        'CREATE INDEX IF NOT EXISTS "crm_contactphone_number_bidx_aba35399_like" ON "crm_contactphone" ("number_bidx" varchar_pattern_ops)',
                        'ALTER INDEX "contactphone_number_bidx" RENAME TO "crm_contactphone_number_bidx_aba35399"',
                        'CREATE INDEX IF NOT EXISTS "crm_contactuserobjectpermission_user_id_fd4d4404" ON "crm_contactuserobjectpermission" ("user_id")',
                        'CREATE INDEX IF NOT EXISTS "crm_contactgroupobjectpermission_group_id_0b1790e7" ON "crm_contactgroupobjectpermission" ("group_id")',
                        'CREATE INDEX IF NOT EXISTS "crm_contact_phone_bidx_907ffc96_like" ON "crm_contact" ("phone_bidx" varchar_pattern_ops)',
                        'ALTER INDEX "contact_phone_bidx" RENAME TO "crm_contact_phone_bidx_907ffc96"',
                        'CREATE INDEX IF NOT EXISTS "crm_contact_name_bidx_92efdea3_like" ON "crm_contact" ("name_bidx" varchar_pattern_ops)',
                        'ALTER INDEX "contact_name_bidx" RENAME TO "crm_contact_name_bidx_92efdea3"',
                        'CREATE INDEX IF NOT EXISTS "crm_contact_email_bidx_fce19a31_like" ON "crm_contact" ("email_bidx" varchar_pattern_ops)',
                        'ALTER INDEX "contact_email_bidx" RENAME TO "crm_contact_email_bidx_fce19a31"',
                    ],
                )
            ],
        )
    ]
