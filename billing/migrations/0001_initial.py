"""Billing's tables, and the triggers that make an issued statement immutable in the database: no
UPDATE or DELETE of an issued statement, and no INSERT, UPDATE or DELETE of a line of one, whoever
sends the SQL. (A draft changes freely; issuing is the UPDATE from draft, which the trigger lets
through. Dropping a company's whole schema at offboarding is not a row change.)"""

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# SQLSTATE 23001 (restrict_violation): Django raises it as an IntegrityError.
FORWARD = """
CREATE OR REPLACE FUNCTION billing_statement_issued_refuse() RETURNS trigger AS $$
BEGIN
    IF OLD.status = 'issued' THEN
        RAISE EXCEPTION 'statement % is issued and cannot be changed (%): issue a correction', OLD.id, TG_OP
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION billing_line_issued_refuse() RETURNS trigger AS $$
DECLARE
    issued boolean;
BEGIN
    -- A restore (operations/backups/restore.py) copies the lines back after their statements, in
    -- one transaction that says so: an INSERT then puts back what was there, it adds nothing new.
    IF TG_OP = 'INSERT' AND current_setting('vastaja.restoring', true) = 'on' THEN
        RETURN NEW;
    END IF;
    EXECUTE format('SELECT bool_or(status = ''issued'') FROM %I.billing_statement WHERE id IN ($1, $2)',
                   TG_TABLE_SCHEMA)
        INTO issued
        USING CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE OLD.statement_id END,
              CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE NEW.statement_id END;
    IF issued THEN
        RAISE EXCEPTION 'the lines of an issued statement cannot be changed (%)', TG_OP
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER billing_statement_issued BEFORE UPDATE OR DELETE ON billing_statement
    FOR EACH ROW EXECUTE FUNCTION billing_statement_issued_refuse();
CREATE TRIGGER billing_line_issued BEFORE INSERT OR UPDATE OR DELETE ON billing_statementline
    FOR EACH ROW EXECUTE FUNCTION billing_line_issued_refuse();
"""
BACKWARD = """
DROP TRIGGER IF EXISTS billing_statement_issued ON billing_statement;
DROP TRIGGER IF EXISTS billing_line_issued ON billing_statementline;
DROP FUNCTION IF EXISTS billing_statement_issued_refuse();
DROP FUNCTION IF EXISTS billing_line_issued_refuse();
"""


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Plan',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('singleton', models.BooleanField(default=True, editable=False)),
                ('currency', models.CharField(default='EUR', help_text='ISO 4217, e.g. EUR', max_length=3, validators=[django.core.validators.RegexValidator('^[A-Z]{3}$', 'Use the three-letter ISO 4217 code, e.g. EUR.')])),
                ('included_minutes', models.PositiveIntegerField(default=0, help_text='Minutes a month included in the plan')),
                ('increment_seconds', models.PositiveIntegerField(default=60, help_text='Each call is billed up to a multiple of this', validators=[django.core.validators.MinValueValidator(1)])),
                ('minimum_seconds', models.PositiveIntegerField(default=0, help_text='Minimum billed per answered call')),
                ('per_call_fee', models.DecimalField(decimal_places=4, default=0, help_text='Charged for every answered call', max_digits=12, validators=[django.core.validators.MinValueValidator(0)])),
                ('overage_rate_per_minute', models.DecimalField(decimal_places=4, default=0, help_text='Per minute beyond the included', max_digits=12, validators=[django.core.validators.MinValueValidator(0)])),
                ('count_wrap_up', models.BooleanField(default=False, help_text="Bill the agent's wrap-up after the call")),
                ('count_transfer', models.BooleanField(default=False, help_text='Bill the time of warm transfers')),
                ('updated_at', models.DateTimeField(auto_now=True)),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('singleton',), name='billing_plan_one_per_company')],
            },
        ),
        migrations.CreateModel(
            name='Statement',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('month', models.DateField(help_text="The first day of the month, in the company's zone")),
                ('status', models.CharField(choices=[('draft', 'Draft'), ('issued', 'Issued')], default='draft', max_length=6)),
                ('currency', models.CharField(max_length=3, validators=[django.core.validators.RegexValidator('^[A-Z]{3}$', 'Use the three-letter ISO 4217 code, e.g. EUR.')])),
                ('included_minutes', models.PositiveIntegerField()),
                ('increment_seconds', models.PositiveIntegerField()),
                ('minimum_seconds', models.PositiveIntegerField()),
                ('per_call_fee', models.DecimalField(decimal_places=4, max_digits=12, validators=[django.core.validators.MinValueValidator(0)])),
                ('overage_rate_per_minute', models.DecimalField(decimal_places=4, max_digits=12, validators=[django.core.validators.MinValueValidator(0)])),
                ('count_wrap_up', models.BooleanField()),
                ('count_transfer', models.BooleanField()),
                ('calls', models.PositiveIntegerField()),
                ('billed_seconds', models.PositiveBigIntegerField()),
                ('overage_seconds', models.PositiveBigIntegerField()),
                ('overage_amount', models.DecimalField(decimal_places=2, max_digits=14)),
                ('call_fees_amount', models.DecimalField(decimal_places=2, max_digits=14)),
                ('total_amount', models.DecimalField(decimal_places=2, max_digits=14)),
                ('created_at', models.DateTimeField()),
                ('issued_at', models.DateTimeField(blank=True, null=True)),
                ('corrects', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='corrections', to='billing.statement')),
                ('issued_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-month', '-id'],
            },
        ),
        migrations.CreateModel(
            name='StatementLine',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('call_id', models.PositiveIntegerField()),
                ('telephony_sid', models.CharField(max_length=64)),
                ('started_at', models.DateTimeField()),
                ('talk_seconds', models.DecimalField(decimal_places=6, max_digits=12)),
                ('wrap_up_seconds', models.DecimalField(decimal_places=6, max_digits=12)),
                ('transfer_seconds', models.DecimalField(decimal_places=6, max_digits=12)),
                ('counted_seconds', models.DecimalField(decimal_places=6, max_digits=12)),
                ('billed_seconds', models.PositiveIntegerField()),
                ('statement', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='lines', to='billing.statement')),
            ],
            options={
                'ordering': ['started_at', 'id'],
            },
        ),
        migrations.AddConstraint(
            model_name='statement',
            constraint=models.UniqueConstraint(condition=models.Q(('status', 'draft')), fields=('month',), name='billing_one_draft_a_month'),
        ),
        migrations.AddConstraint(
            model_name='statement',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('issued_at', None), ('status', 'draft')), models.Q(('issued_at__isnull', False), ('status', 'issued')), _connector='OR'), name='billing_issued_has_time'),
        ),
        migrations.AddConstraint(
            model_name='statementline',
            constraint=models.UniqueConstraint(fields=('statement', 'call_id'), name='billing_line_once'),
        ),
        migrations.RunSQL(FORWARD, BACKWARD),
    ]
