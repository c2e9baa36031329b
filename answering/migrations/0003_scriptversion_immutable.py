"""A published script version is immutable: calls remember the version they used, so what an
agent was told to ask must never change under them. A trigger refuses it in the database."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION answering_scriptversion_immutable() RETURNS trigger AS $$
BEGIN
    IF OLD.published_at IS NOT NULL THEN
        RAISE EXCEPTION 'script version % is published and cannot change', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER scriptversion_immutable BEFORE UPDATE OR DELETE ON answering_scriptversion
    FOR EACH ROW EXECUTE FUNCTION answering_scriptversion_immutable();
"""
BACKWARD = """
DROP TRIGGER IF EXISTS scriptversion_immutable ON answering_scriptversion;
DROP FUNCTION IF EXISTS answering_scriptversion_immutable();
"""


class Migration(migrations.Migration):
    dependencies = [("answering", "0002_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
