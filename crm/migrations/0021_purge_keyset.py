"""Drop the `varchar_pattern_ops` copies of the contact's blind-index indexes (issue 19).

Django adds one to every indexed text column, for `LIKE 'prefix%'`; a blind index is only ever
matched whole (`phone_bidx = ...`, which the plain index serves: the caller lookup keeps its one
index probe), and a prefix of an HMAC means nothing. The retention purge blanks these columns, so
each purged contact wrote an entry into both copies of all three.
"""

from django.db import migrations

LIKE_INDEXES = [
    ("phone_bidx", "crm_contact_phone_bidx_907ffc96_like"),
    ("email_bidx", "crm_contact_email_bidx_fce19a31_like"),
    ("name_bidx", "crm_contact_name_bidx_92efdea3_like"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0020_keyed_fields"),
    ]

    operations = [
        migrations.RunSQL(
            f"DROP INDEX IF EXISTS {index}",
            f"CREATE INDEX IF NOT EXISTS {index} ON crm_contact ({column} varchar_pattern_ops)",
        )
        for column, index in LIKE_INDEXES
    ]
