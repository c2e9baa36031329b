"""Audit rows are append-only: a trigger refuses UPDATE and DELETE on the change log, the access
log and the hash chain of each client company's schema. (Dropping a company's whole schema at
offboarding is not a row change, and is the only way they go.)"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit rows are append-only (% on %)', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON auditlog_logentry
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit_accesslogentry
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit_chainlink
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON auditlog_logentry
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit_accesslogentry
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit_chainlink
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
"""
BACKWARD = """
DROP TRIGGER IF EXISTS audit_append_only ON auditlog_logentry;
DROP TRIGGER IF EXISTS audit_append_only ON audit_accesslogentry;
DROP TRIGGER IF EXISTS audit_append_only ON audit_chainlink;
DROP TRIGGER IF EXISTS audit_no_truncate ON auditlog_logentry;
DROP TRIGGER IF EXISTS audit_no_truncate ON audit_accesslogentry;
DROP TRIGGER IF EXISTS audit_no_truncate ON audit_chainlink;
DROP FUNCTION IF EXISTS audit_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial"), ("auditlog", "0017_add_actor_email")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
