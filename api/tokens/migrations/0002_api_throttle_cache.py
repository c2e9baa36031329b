# The database cache table that the API's rate limits count in when no shared CACHE_URL is set,
# made here (in the public schema, as `createcachetable` would make it) so that the one
# `migrate_schemas` every deploy, the demo and CI already run creates it: no extra step to forget.

from django.db import migrations

CREATE = """
CREATE TABLE IF NOT EXISTS "api_throttle_cache" (
    "cache_key" varchar(255) NOT NULL PRIMARY KEY,
    "value" text NOT NULL,
    "expires" timestamp with time zone NOT NULL
);
CREATE INDEX IF NOT EXISTS "api_throttle_cache_expires" ON "api_throttle_cache" ("expires");
"""


class Migration(migrations.Migration):
    dependencies = [("tokens", "0001_initial")]

    operations = [migrations.RunSQL(CREATE, reverse_sql='DROP TABLE IF EXISTS "api_throttle_cache"')]
