import django.db.models.deletion
from django.db import migrations, models

# Like the audit tables of a company's schema (audit/0002_append_only): a checkpoint, once signed and
# stored, is never changed or removed by the application's database role.
FORWARD = """
CREATE OR REPLACE FUNCTION checkpoint_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit checkpoints are append-only (% on %)', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER checkpoint_append_only BEFORE UPDATE OR DELETE ON tenants_auditcheckpoint
    FOR EACH ROW EXECUTE FUNCTION checkpoint_append_only();
CREATE TRIGGER checkpoint_no_truncate BEFORE TRUNCATE ON tenants_auditcheckpoint
    FOR EACH STATEMENT EXECUTE FUNCTION checkpoint_append_only();
"""
BACKWARD = """
DROP TRIGGER IF EXISTS checkpoint_append_only ON tenants_auditcheckpoint;
DROP TRIGGER IF EXISTS checkpoint_no_truncate ON tenants_auditcheckpoint;
DROP FUNCTION IF EXISTS checkpoint_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("tenants", "0002_company_key")]

    operations = [
        migrations.CreateModel(
            name="AuditCheckpoint",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("seq", models.PositiveBigIntegerField(help_text="The chain link signed: its sequence number")),
                ("head_hash", models.CharField(max_length=64)),
                ("signed_at", models.DateTimeField()),
                ("signature", models.CharField(help_text="Ed25519, in hex", max_length=128)),
                (
                    "key_fingerprint",
                    models.CharField(help_text="SHA-256 of the raw public key, in hex", max_length=64),
                ),
                ("public_key", models.CharField(max_length=64)),
                (
                    "company",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="audit_checkpoints",
                        to="tenants.clientcompany",
                    ),
                ),
            ],
            options={
                "ordering": ["company_id", "signed_at", "pk"],
                "indexes": [models.Index(fields=["company", "-signed_at"], name="checkpoint_company_latest")],
            },
        ),
        migrations.RunSQL(FORWARD, BACKWARD),
    ]
