"""A DPA in force for a company a test makes itself (the demo's have theirs): one active version,
signed and approved, naming the deployment's e-mail and Twilio providers as sub-processors, so that
its sends pass the gate before every send (gates/outbound.py) as the demo companies' do."""

from __future__ import annotations

import datetime as dt


def dpa_in_force_for_test(company, *, services=("email", "sms", "voice")) -> None:
    from django.conf import settings
    from django.utils import timezone

    from compliance.agreements.models import Agreement, AgreementVersion, SubProcessor

    now, today = timezone.now(), timezone.localdate()
    agreement, _ = Agreement.objects.get_or_create(company=company)
    version = AgreementVersion.objects.create(
        agreement=agreement,
        number=1,
        status=AgreementVersion.Status.ACTIVE,
        start_date=today - dt.timedelta(days=30),
        end_date=today + dt.timedelta(days=365),
        client_signed_by="test",
        client_signed_at=now,
        approved_at=now,
        activated_at=now,
    )
    providers = {"email": settings.EMAIL_SUBPROCESSOR, "sms": settings.TWILIO_SUBPROCESSOR}
    providers["voice"] = settings.TWILIO_SUBPROCESSOR
    by_name: dict[str, list[str]] = {}
    for service in services:
        by_name.setdefault(providers[service], []).append(service)
    for name, engaged in by_name.items():
        SubProcessor.objects.create(
            version=version,
            name=name,
            purpose="tests",
            location="EU",
            services=engaged,
            regions=["EEA"],
            categories=["user"],
            authorised_on=today - dt.timedelta(days=60),
        )
