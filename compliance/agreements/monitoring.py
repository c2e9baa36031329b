"""DPAs about to end (collected by operations.monitoring): a gauge and an alert, 14 days ahead."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from compliance.agreements.selectors import dpa_expiring
from operations.monitoring.registry import Alert, alert_source, gauge
from tenants.models import ClientCompany

EXPIRY_WARNING_DAYS = 14


@gauge(
    "vastaja_dpas_expiring",
    f"1 when the company's active DPA ends within {EXPIRY_WARNING_DAYS} days",
    labels=("tenant",),
)
def dpas_expiring():
    ending = set(
        dpa_expiring(within_days=EXPIRY_WARNING_DAYS).values_list("agreement__company__schema_name", flat=True)
    )
    companies = ClientCompany.objects.filter(kind=ClientCompany.Kind.CLIENT).exclude(
        status=ClientCompany.Status.OFFBOARDED
    )
    for slug in companies.values_list("schema_name", flat=True):
        yield (slug,), int(slug in ending)


@alert_source("dpa_expiring", per_tenant=False)
def dpa_expiring_alerts(now: dt.datetime):
    today = timezone.localdate(now)
    for version in dpa_expiring(within_days=EXPIRY_WARNING_DAYS, today=today):
        slug = version.agreement.company.schema_name
        yield Alert(
            kind="dpa_expiring",
            company=slug,
            object_key=f"version:{version.pk}:{version.end_date}",
            subject=f"The DPA of {slug} ends on {version.end_date}",
            facts=[
                ("Agreement version", f"#{version.pk} (v{version.number})"),
                ("Ends", str(version.end_date)),
                ("Days left", str((version.end_date - today).days)),
            ],
        )
