"""Which logged erasures a backup lacks, decided by its snapshot. One transaction cannot race
itself, so the erasures are written and committed by sessions of their own (and deleted after)."""

from __future__ import annotations

import psycopg
import pytest
from django.db import connection

from operations.backups.erasures import erasures_after_backup
from operations.backups.models import ErasureRecord

pytestmark = pytest.mark.django_db
INSERT = (
    "INSERT INTO public.backups_erasurerecord (company_id, source, reference, model, object_ids, action, changes, "
    "files) VALUES (%s, 'retention', %s, 'crm.Contact', '{0}', 'update', '{}', '{}') RETURNING id"
)


def test_an_erasure_in_flight_while_the_backup_starts_is_applied_again_and_an_earlier_one_is_not(acme):
    params = connection.get_connection_params()
    made = []
    with psycopg.connect(**params, autocommit=True) as session:
        try:
            made.append(session.execute(INSERT, [acme.pk, "snapshot test: before"]).fetchone()[0])
            # Another session writes an erasure and has not committed when the backup's snapshot is
            # taken: the backup cannot hold it, although it was recorded before the backup began.
            with psycopg.connect(**params) as in_flight:
                made.append(in_flight.execute(INSERT, [acme.pk, "snapshot test: in flight"]).fetchone()[0])
                snapshot, created_at = session.execute(
                    "SELECT pg_current_snapshot()::text, clock_timestamp()"
                ).fetchone()
                in_flight.commit()
            made.append(session.execute(INSERT, [acme.pk, "snapshot test: after"]).fetchone()[0])

            lacking = erasures_after_backup(company=acme, created_at=created_at, snapshot=snapshot)
            chosen = set(lacking.filter(pk__in=made).values_list("reference", flat=True))
            assert chosen == {"snapshot test: in flight", "snapshot test: after"}
            # The clock alone would have missed the one in flight.
            assert ErasureRecord.objects.get(pk=made[1]).recorded_at < created_at
        finally:
            session.execute("DELETE FROM public.backups_erasurerecord WHERE id = ANY(%s)", [made])
