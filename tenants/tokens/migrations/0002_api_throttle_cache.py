# The database cache table that the API's rate limits count in when no shared CACHE_URL is set.
# `createcachetable` would skip it (django-tenants' router allows no "django_cache" app), so it is
# made here, in the public schema, like `createcachetable` would make it.

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
