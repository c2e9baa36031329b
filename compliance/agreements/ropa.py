"""The processor's record of processing activities (GDPR Art. 30(2)), generated from the DPAs and
the data-category registry, never typed by hand."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from compliance.agreements.models import AgreementVersion
from compliance.agreements.selectors import dpa_in_force
from compliance.agreements.subprocessors import sub_processor_authorisation, sub_processor_usage
from tenants.categories import TAXONOMY, covers, registry
from tenants.integrations import INTEGRATIONS
from tenants.keys import SHREDDING_STATEMENT
from tenants.models import ClientCompany

EEA_MARKERS = ("EU", "EEA", "Estonia", "Finland", "Ireland", "Germany", "Sweden", "Latvia", "Lithuania")


def ropa_records(*, since: dt.datetime | None = None, until: dt.datetime | None = None) -> list[dict]:
    """One record per client company: the controller, what is processed, by whom, where, how safely;
    with the sub-processors authorised and, next to them, those actually used in [since, until)
    (by default the last 365 days), with their counts of sends and refusals."""
    until = until or timezone.now()
    since = since or until - dt.timedelta(days=365)
    fields_by_category: dict[str, list[str]] = {}
    for entry in registry():
        fields_by_category.setdefault(entry.category, []).append(f"{entry.model._meta.label}.{entry.field}")
    records = []
    companies = ClientCompany.objects.filter(kind=ClientCompany.Kind.CLIENT).exclude(status="offboarded")
    for company in companies.order_by("name"):
        version = dpa_in_force(company=company) or (
            AgreementVersion.objects.filter(agreement__company=company).order_by("-number").first()
        )
        if version is None:
            records.append({"controller": company.name, "tenant": company.schema_name, "agreement": None})
            continue
        granted = sorted({g.category for g in version.grants.all()})
        subs = list(version.sub_processors.all())
        data_categories = [
            {
                "category": category,
                "description": TAXONOMY.get(category, ""),
                "fields": sorted(f for cat, fs in fields_by_category.items() if covers(category, cat) for f in fs),
            }
            for category in granted
        ]
        sub_processors = [
            {
                "name": s.name,
                "purpose": s.purpose,
                "location": s.location,
                "services": list(s.services),
                "regions": list(s.regions),
                "categories": list(s.categories),
                "authorised_on": str(s.authorised_on),
            }
            for s in subs
        ]
        used = []
        for key, counts in sorted(sub_processor_usage(company=company, since=since, until=until).items()):
            if not (counts["sent"] or counts["refused"]):
                continue  # set up, but nothing went through it in the period
            integration = INTEGRATIONS[key]
            used.append(
                {
                    "integration": key,
                    "label": integration.label,
                    "sub_processors": counts["sub_processors"],
                    "sends": counts["sent"],
                    "refused": counts["refused"],
                    "categories": counts["categories"],
                    "authorised_now": sub_processor_authorisation(
                        company=company, integration=integration, categories=counts["categories"]
                    ).allowed,
                }
            )
        transfers = [f"{s.name} ({s.location})" for s in subs if not any(m in s.location for m in EEA_MARKERS)]
        records.append(
            {
                "controller": company.name,
                "tenant": company.schema_name,
                "agreement": f"version {version.number} ({version.get_status_display()})",
                "in_force": version.in_force_on(timezone.localdate()),
                "period": [str(version.start_date), str(version.end_date)],
                "categories_of_processing": version.nature_and_purpose,
                "data_subjects": version.data_subject_categories,
                "data_categories": data_categories,
                "retention_days": {r.category: r.days for r in version.retention_rules.all()},
                "sub_processors": sub_processors,
                "usage_period": [since.isoformat(timespec="seconds"), until.isoformat(timespec="seconds")],
                "sub_processors_used": used,
                "transfers_outside_eea": transfers,
                "security_measures": version.security_measures,
                "end_of_service_erasure": SHREDDING_STATEMENT,
                "breach_notification_hours": version.breach_notification_hours,
            }
        )
    return records
