# Values encrypted under the single FIELD_ENCRYPTION_KEY move onto the company's own keys.

import tenants.crypto
import tenants.rekey
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('tenants', '0002_company_key'),
        ('answering', '0011_deliveryattempt_refused_by_dpa'),
    ]

    operations = [
        migrations.AlterField(
            model_name='call',
            name='caller_name',
            field=tenants.crypto.encrypt(models.CharField(blank=True, max_length=200)),
        ),
        migrations.AlterField(
            model_name='call',
            name='caller_number',
            field=tenants.crypto.encrypt(models.CharField(blank=True, max_length=20)),
        ),
        migrations.AlterField(
            model_name='call',
            name='notes',
            field=tenants.crypto.encrypt(models.TextField(blank=True)),
        ),
        migrations.AlterField(
            model_name='deliveryroute',
            name='address',
            field=tenants.crypto.encrypt(models.CharField(max_length=254)),
        ),
        migrations.AlterField(
            model_name='message',
            name='answers',
            field=tenants.crypto.encrypt(models.TextField(blank=True, default='')),
        ),
        migrations.AlterField(
            model_name='message',
            name='body',
            field=tenants.crypto.encrypt(models.TextField(blank=True)),
        ),
        migrations.AlterField(
            model_name='message',
            name='caller_name',
            field=tenants.crypto.encrypt(models.CharField(blank=True, max_length=200)),
        ),
        migrations.AlterField(
            model_name='message',
            name='caller_number',
            field=tenants.crypto.encrypt(models.CharField(blank=True, max_length=20)),
        ),
        migrations.AlterField(
            model_name='voicemail',
            name='transcription',
            field=tenants.crypto.encrypt(models.TextField(blank=True)),
        ),
        migrations.AlterField(
            model_name='webhookendpoint',
            name='secret',
            field=tenants.crypto.encrypt(models.CharField(max_length=128)),
        ),
        migrations.RunPython(tenants.rekey.migration_rekey('answering', files=True), migrations.RunPython.noop),
    ]
