# Values encrypted under the single FIELD_ENCRYPTION_KEY move onto the company's own keys.

import tenants.crypto
import tenants.rekey
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('tenants', '0002_company_key'),
        ('scheduling', '0006_notification_resume'),
    ]

    operations = [
        migrations.AlterField(
            model_name='appointment',
            name='notes',
            field=tenants.crypto.encrypt(models.TextField(blank=True)),
        ),
        migrations.AlterField(
            model_name='staffmember',
            name='email',
            field=tenants.crypto.encrypt(models.CharField(blank=True, max_length=254)),
        ),
        migrations.AlterField(
            model_name='staffmember',
            name='name',
            field=tenants.crypto.encrypt(models.CharField(max_length=200)),
        ),
        migrations.AlterField(
            model_name='staffmember',
            name='phone_number',
            field=tenants.crypto.encrypt(models.CharField(blank=True, max_length=20)),
        ),
        migrations.RunPython(tenants.rekey.migration_rekey('scheduling'), migrations.RunPython.noop),
    ]
