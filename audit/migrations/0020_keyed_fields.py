# Values encrypted under the single FIELD_ENCRYPTION_KEY move onto the company's own keys.

import tenants.crypto
import tenants.rekey
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('tenants', '0002_company_key'),
        ('audit', '0009_subprocessor_channel_and_use'),
    ]

    operations = [
        migrations.AlterField(
            model_name='datasubjectrequest',
            name='email',
            field=tenants.crypto.encrypt(models.CharField(blank=True, max_length=254)),
        ),
        migrations.AlterField(
            model_name='datasubjectrequest',
            name='phone_number',
            field=tenants.crypto.encrypt(models.CharField(blank=True, max_length=20)),
        ),
        migrations.RunPython(tenants.rekey.migration_rekey('audit'), migrations.RunPython.noop),
    ]
