# Values encrypted under the single FIELD_ENCRYPTION_KEY move onto the company's own keys.

import tenants.crypto
import tenants.rekey
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('tenants', '0002_company_key'),
        ('crm', '0004_contact_name_bidx'),
    ]

    operations = [
        migrations.AlterField(
            model_name='consentrecord',
            name='evidence',
            field=tenants.crypto.encrypt(models.TextField(blank=True)),
        ),
        migrations.AlterField(
            model_name='contact',
            name='address',
            field=tenants.crypto.encrypt(models.TextField(blank=True)),
        ),
        migrations.AlterField(
            model_name='contact',
            name='email',
            field=tenants.crypto.encrypt(models.CharField(blank=True, max_length=254)),
        ),
        migrations.AlterField(
            model_name='contact',
            name='health_notes',
            field=tenants.crypto.encrypt(models.TextField(blank=True)),
        ),
        migrations.AlterField(
            model_name='contact',
            name='name',
            field=tenants.crypto.encrypt(models.CharField(max_length=200)),
        ),
        migrations.AlterField(
            model_name='contact',
            name='notes',
            field=tenants.crypto.encrypt(models.TextField(blank=True)),
        ),
        migrations.AlterField(
            model_name='contact',
            name='phone_number',
            field=tenants.crypto.encrypt(models.CharField(blank=True, max_length=20)),
        ),
        migrations.AlterField(
            model_name='contactphone',
            name='number',
            field=tenants.crypto.encrypt(models.CharField(max_length=20)),
        ),
        migrations.RunPython(tenants.rekey.migration_rekey('crm'), migrations.RunPython.noop),
    ]
