"""The retention purge walks the primary key, so its updates can be HOT (issue 19).

- The partial indexes of the rows not yet purged go: a column in an index's predicate counts as
  indexed, so they made every purged row a non-HOT update, with a new entry in every index.
- The tables leave room on each page for the purge's new, smaller row versions (a HOT update must
  fit on the same page, beside the old one until the batch commits): a page filled to f of its
  size holds all its rows' new versions only if f <= old / (old + new). A purged call is about 249
  bytes (three empty ciphertexts, no pseudonym), a call about 309 bytes with no name or notes and
  more with them, so calls are filled to 55%; a purged message shrinks only by its body's text,
  so messages to 50%. This applies to pages written from now on; existing rows move when the table is
  rewritten (VACUUM FULL or pg_repack). docs/performance.md says what it costs.
- Indexes no query uses go: the foreign-key index of `line` (the `(line, newest)` indexes serve
  every `line_id = ...` lookup) and the `varchar_pattern_ops` copies Django adds to unique text
  columns, which serve only `LIKE 'prefix%'`, which nothing runs on a telephony or recording id.
"""

from django.db import migrations, models

LIKE_INDEXES = [
    ("answering_call", "telephony_sid", "answering_call_telephony_sid_7e3da365_like"),
    ("answering_voicemail", "recording_sid", "answering_voicemail_recording_sid_28f4e277_like"),
    ("answering_recording", "recording_sid", "answering_recording_recording_sid_ce31b2a0_like"),
]
FILLFACTORS = [("answering_call", 55), ("answering_message", 50)]


class Migration(migrations.Migration):
    dependencies = [
        ("answering", "0050_transfer"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="call", name="call_not_anonymised"),
        migrations.RemoveIndex(model_name="message", name="message_not_purged"),
        migrations.AlterField(
            model_name="call",
            name="line",
            field=models.ForeignKey(
                db_index=False,
                on_delete=models.deletion.PROTECT,
                related_name="calls",
                to="answering.line",
            ),
        ),
        migrations.AlterField(
            model_name="message",
            name="line",
            field=models.ForeignKey(
                db_index=False,
                on_delete=models.deletion.PROTECT,
                related_name="messages",
                to="answering.line",
            ),
        ),
        *[
            migrations.RunSQL(
                f"DROP INDEX IF EXISTS {index}",
                f"CREATE INDEX IF NOT EXISTS {index} ON {table} ({column} varchar_pattern_ops)",
            )
            for table, column, index in LIKE_INDEXES
        ],
        *[
            migrations.RunSQL(f"ALTER TABLE {table} SET (fillfactor = {ff})", f"ALTER TABLE {table} RESET (fillfactor)")
            for table, ff in FILLFACTORS
        ],
    ]
