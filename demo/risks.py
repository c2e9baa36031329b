"""The demo's risk register (called by demo.world.demo_seed): a DPIA for acme, the dental clinic,
linked to its DPA; a plain risk assessment for globex whose review is overdue; and due diligence on
the telephony and e-mail sub-processors."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from compliance.agreements.models import AgreementVersion
from compliance.risks import services
from compliance.risks.models import RiskAssessment, SubProcessorDiligence
from tenants.models import ClientCompany, User

ASSESSMENTS = {
    "acme": {
        "processing_activity": "Answering patients' calls and taking messages for a dental clinic",
        "kind": RiskAssessment.Kind.DPIA,
        "special_categories": ["user.health"],
        "review_in_days": 180,
        "conclusion": "Acceptable with the measures: the DPA grants agents no health data, and the health-data "
        "course is required of everyone who answers for the clinic.",
        "risks": [
            (
                "Callers volunteer symptoms or treatment details, which agents write into messages",
                3,
                3,
                "The DPA grants no user.health; scripts ask no health questions; the health-data course is required; "
                "message bodies are encrypted at rest and purged after 365 days",
            ),
            (
                "A patient's message is read by someone who does not work for the clinic",
                1,
                4,
                "Per-company object and field gates; every read in the access log the clinic can inspect",
            ),
        ],
    },
    "globex": {
        "processing_activity": "Answering calls for a law firm",
        "kind": RiskAssessment.Kind.RISK,
        "special_categories": [],
        "review_in_days": -14,  # overdue, so the flag shows
        "conclusion": "",
        "risks": [
            (
                "Privileged details of a case end up in call notes",
                2,
                3,
                "Agents record names and message content only; no numbers are granted",
            ),
        ],
    },
}


def risks_demo_seed(*, companies: dict[str, ClientCompany], dpo: User) -> None:
    today = timezone.localdate()
    for slug, spec in ASSESSMENTS.items():
        company = companies[slug]
        if RiskAssessment.objects.filter(company=company).exists():
            continue
        versions = list(AgreementVersion.objects.filter(agreement__company=company, status="active"))
        assessment = services.assessment_record(
            company=company,
            processing_activity=spec["processing_activity"],
            kind=spec["kind"],
            owner=dpo,
            review_due=today + dt.timedelta(days=spec["review_in_days"]),
            actor=dpo,
            special_categories=spec["special_categories"],
            conclusion=spec["conclusion"],
            dpa_versions=versions if spec["kind"] == RiskAssessment.Kind.DPIA else [],
        )
        for description, likelihood, impact, mitigations in spec["risks"]:
            services.risk_add(
                assessment=assessment,
                description=description,
                likelihood=likelihood,
                impact=impact,
                mitigations=mitigations,
                actor=dpo,
            )
    if not SubProcessorDiligence.objects.filter(name__iexact="Twilio Ireland Ltd").exists():
        services.diligence_record(
            name="Twilio Ireland Ltd",
            certifications="ISO/IEC 27001:2022; SOC 2 Type II; binding corporate rules",
            last_reviewed_on=today - dt.timedelta(days=200),
            next_review_on=today + dt.timedelta(days=165),
            findings="Sub-processors list and transfer safeguards checked; no open findings.",
            actor=dpo,
        )
    # The demo's e-mail provider (EMAIL_SUBPROCESSOR), which acme's and globex's DPAs name.
    mail_provider = settings.EMAIL_SUBPROCESSOR or "Demo Mail OÜ"
    if not SubProcessorDiligence.objects.filter(name__iexact=mail_provider).exists():
        services.diligence_record(
            name=mail_provider,
            certifications="ISO/IEC 27001:2022; data kept in Estonia",
            last_reviewed_on=today - dt.timedelta(days=90),
            next_review_on=today + dt.timedelta(days=275),
            findings="TLS for every hop checked; no open findings.",
            actor=dpo,
        )
