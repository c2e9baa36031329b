"""No two live appointments of one resource may overlap: an exclusion constraint in PostgreSQL.

The constraint needs GiST equality on the resource id. With the btree_gist extension (installed
into public, so every tenant schema's search_path finds it) that is `resource_id WITH =`. Where
btree_gist cannot be had (the embedded pgserver build ships no contrib extensions), the same
guarantee comes from core GiST range equality on `int8range(resource_id, resource_id, '[]')`.
"""

from django.db import migrations

FORWARD = """
DO $$
BEGIN
    BEGIN
        CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public;
    EXCEPTION WHEN OTHERS THEN
        RAISE NOTICE 'btree_gist is not available: using core range equality instead';
    END;
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'btree_gist') THEN
        ALTER TABLE scheduling_appointment ADD CONSTRAINT appointment_no_overlap
            EXCLUDE USING gist (resource_id WITH =, blocked WITH &&)
            WHERE (status IN ('held', 'booked'));
    ELSE
        ALTER TABLE scheduling_appointment ADD CONSTRAINT appointment_no_overlap
            EXCLUDE USING gist (int8range(resource_id, resource_id, '[]') WITH =, blocked WITH &&)
            WHERE (status IN ('held', 'booked'));
    END IF;
END
$$;
"""
BACKWARD = "ALTER TABLE scheduling_appointment DROP CONSTRAINT IF EXISTS appointment_no_overlap;"


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
