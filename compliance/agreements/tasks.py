from celery import shared_task

from compliance.agreements.services import dpa_expire_due


@shared_task(name="agreements.expire_due", acks_late=True)
def agreements_expire_due() -> int:
    """Record the expiry of DPAs past their end date (the gates already ignore them)."""
    return dpa_expire_due()
