"""What the gates tell the rest of the platform. `audit` listens; the gates never import it.

fields_read:    someone (or a task) was shown gated fields of some objects, on a channel.
access_refused: someone asked for a tenant object the gates would not give them.
Both carry: user (or None for a task), channel, model, object_ids, fields, path.
"""

from django.dispatch import Signal

fields_read = Signal()
access_refused = Signal()


def report_read(*, user, channel: str, model, object_ids, fields, path: str = "") -> None:
    """Send `fields_read` for personal fields only (a read of nothing personal is not logged)."""
    from tenants.categories import personal_fields

    personal = sorted(set(fields) & set(personal_fields(model)))
    ids = [int(pk) for pk in object_ids if pk is not None]
    if personal and ids:
        fields_read.send(
            sender=model, user=user, channel=channel, model=model, object_ids=ids, fields=personal, path=path
        )


def report_refused(*, user, channel: str, model, object_id, path: str = "") -> None:
    access_refused.send(
        sender=model, user=user, channel=channel, model=model, object_ids=[str(object_id)], fields=[], path=path
    )
