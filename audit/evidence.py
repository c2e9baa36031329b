"""Audit evidence packs (Art. 28(3)(h) GDPR): everything a client company needs to audit its
processor, generated from the records and never typed.

A pack is produced inside one client company's schema and holds only that company's records, and
from the public schema only what concerns that company: its agreement, its sub-processors, the staff
assigned to it (names and dates only) and the incidents that affected it (without naming any other
company they affected). It holds no personal data of callers: data-subject requests appear by
kind, status and dates, never by who asked.

The ZIP holds JSON and CSV files, a `manifest.json` with each file's SHA-256, and an `index.html`
that a person can read. It is stored encrypted; producing it is in the change log, and every
download is in the access log.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import io
import json
import zipfile
from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.utils import timezone

from audit.chain import chain_verify
from audit.checkpoints import checkpoint_lines
from audit.models import AccessLogEntry, DataSubjectRequest, EvidencePack, RetentionRun
from audit.sealing import audit_seal
from audit.subprocessors import subprocessor_use_counts
from gates.exports import CsvWriter
from gates.signals import fields_read
from tenants.categories import registry
from tenants.errors import ApplicationError
from tenants.files import encrypted_file_read, encrypted_file_save
from tenants.models import ClientCompany, User
from tenants.signing import key_fingerprint, public_key_pem


@dataclass
class _File:
    name: str
    title: str
    content: bytes
    rows: int


def _json(name: str, title: str, data, rows: int) -> _File:
    return _File(name, title, json.dumps(data, indent=2, ensure_ascii=False, default=str).encode(), rows)


def _csv(name: str, title: str, header: list[str], rows: list[list]) -> _File:
    out = io.StringIO()
    writer = CsvWriter(out)
    writer.writerow(header)
    writer.writerows(rows)
    return _File(name, title, out.getvalue().encode(), len(rows))


def _iso(value) -> str:
    return value.isoformat() if value else ""


def _agreement_files(company: ClientCompany) -> list[_File]:
    from compliance.agreements.models import Agreement

    agreement = Agreement.objects.filter(company=company).first()
    versions = []
    if agreement:
        versions = list(
            agreement.versions.order_by("number").prefetch_related("grants", "retention_rules", "sub_processors")
        )
    data = []
    for v in versions:
        data.append(
            {
                "number": v.number,
                "status": v.status,
                "start_date": v.start_date,
                "end_date": v.end_date,
                "subject_matter": v.subject_matter,
                "nature_and_purpose": v.nature_and_purpose,
                "data_subject_categories": v.data_subject_categories,
                "security_measures": v.security_measures,
                "data_subject_rights_assistance": v.data_subject_rights_assistance,
                "end_of_processing": v.end_of_processing,
                "audit_rights": v.audit_rights,
                "staff_confidentiality": v.staff_confidentiality,
                "breach_notification_hours": v.breach_notification_hours,
                "client_signed_by": v.client_signed_by,
                "client_signed_at": v.client_signed_at,
                "submitted_at": v.submitted_at,
                "approved_by": v.approved_by.username if v.approved_by_id else "",
                "approved_at": v.approved_at,
                "activated_at": v.activated_at,
                "ended_at": v.ended_at,
                "end_reason": v.end_reason,
                "rejection_reason": v.rejection_reason,
                "grants": sorted(
                    ({"role": g.role, "category": g.category, "action": g.action} for g in v.grants.all()),
                    key=lambda g: (g["role"], g["category"], g["action"]),
                ),
                "retention_rules": sorted(
                    ({"category": r.category, "days": r.days} for r in v.retention_rules.all()),
                    key=lambda r: r["category"],
                ),
            }
        )
    history = [
        [
            v.number,
            v.status,
            _iso(v.submitted_at),
            _iso(v.approved_at),
            _iso(v.activated_at),
            _iso(v.ended_at),
            v.end_reason,
        ]
        for v in versions
    ]
    diligence = _due_diligence_by_name()
    sub_rows = []
    for v in versions:
        for sp in v.sub_processors.all():
            window_ends = sp.authorised_on + dt.timedelta(days=sp.objection_window_days)
            sub_rows.append(
                [
                    v.number,
                    sp.name,
                    sp.purpose,
                    sp.location,
                    sp.authorised_on,
                    window_ends,
                    " ".join(sp.services),
                    " ".join(sp.regions),
                    " ".join(sp.categories),
                    *diligence.get(sp.name.lower(), NO_DUE_DILIGENCE),
                ]
            )
    return [
        _json(
            "agreement.json",
            "The data-processing agreement: every version, its grants and retention rules",
            {"company": company.name, "versions": data},
            len(data),
        ),
        _csv(
            "agreement_history.csv",
            "The agreement's history, version by version",
            ["version", "status", "submitted_at", "approved_at", "activated_at", "ended_at", "end_reason"],
            history,
        ),
        _csv(
            "sub_processors.csv",
            "Sub-processors authorised in each version, with their due diligence",
            [
                "version",
                "name",
                "purpose",
                "location",
                "authorised_on",
                "objection_window_ends",
                "services",
                "regions",
                "categories",
                *DUE_DILIGENCE_COLUMNS,
            ],
            sub_rows,
        ),
    ]


DUE_DILIGENCE_COLUMNS = ["certifications", "last_reviewed_on", "next_review_on", "review_overdue"]


NO_DUE_DILIGENCE = ["no due-diligence record", "", "", ""]


def _due_diligence_by_name() -> dict[str, list]:
    """The provider's due diligence per sub-processor (one record each, matched by name, as the
    risk register matches them), read in one query."""
    from compliance.risks.models import SubProcessorDiligence

    today = timezone.localdate()
    return {
        record.name.lower(): [
            record.certifications,
            record.last_reviewed_on,
            record.next_review_on,
            record.next_review_on < today,
        ]
        for record in SubProcessorDiligence.objects.all()
    }


USAGE_PERIOD = dt.timedelta(days=365)


def _sub_processors_used_file(company: ClientCompany, now: dt.datetime) -> _File:
    """The sub-processors the company's data actually went to in the last year, with the sends and
    the refusals, next to whether the DPA in force authorises each now."""
    from compliance.agreements.subprocessors import sub_processor_authorisation
    from tenants.integrations import INTEGRATIONS

    since = now - USAGE_PERIOD
    rows = []
    for key, counts in sorted(subprocessor_use_counts(since=since, until=now).items()):
        integration = INTEGRATIONS.get(key)
        authorised = (
            sub_processor_authorisation(company=company, integration=integration, categories=counts["categories"])
            if integration is not None
            else None
        )
        rows.append(
            [
                key,
                "; ".join(counts["sub_processors"]),
                counts["sent"],
                counts["refused"],
                " ".join(counts["categories"]),
                "yes"
                if authorised is not None and authorised.allowed
                else f"no: {authorised.reason if authorised else ''}",
                _iso(since),
                _iso(now),
            ]
        )
    return _csv(
        "sub_processors_used.csv",
        "Sub-processors the company's data actually went to in the last 365 days: sends and refusals",
        ["integration", "sub_processor", "sends", "refused", "categories", "authorised_now", "since", "until"],
        rows,
    )


def _staff_file(company: ClientCompany) -> _File:
    """The provider's staff assigned to this company, with their confidentiality commitment and the
    training required of them there: names and dates only."""
    from compliance.training.selectors import training_status_for_company

    today = timezone.localdate()
    rows = []
    for status in training_status_for_company(company):
        user = status.user
        person = [
            user.username,
            user.get_full_name(),
            user.get_provider_role_display(),
            _iso(status.commitment_signed_on),
        ]
        for course in status.courses or [None]:
            if course is None:
                rows.append([*person, "", "", "", "", ""])
                continue
            valid = bool(course.expires_on and course.completed_on and course.expires_on >= today)
            rows.append([*person, course.code, course.title, _iso(course.completed_on), _iso(course.expires_on), valid])
    return _csv(
        "staff.csv",
        "Provider staff assigned to the company: confidentiality and training (names and dates)",
        [
            "username",
            "name",
            "role",
            "confidentiality_signed_on",
            "course",
            "course_title",
            "completed_on",
            "expires_on",
            "valid_today",
        ],
        rows,
    )


def _access_log_file() -> _File:
    """Reads of the company's personal data by the provider's staff, counted by month, person,
    channel and record type (the entries themselves are on the portal's access-log page)."""
    counts: Counter = Counter()
    refused: Counter = Counter()
    entries = AccessLogEntry.objects.select_related("user").exclude(user__provider_role="").exclude(user=None)
    for entry in entries.only(
        "at", "channel", "object_type", "refused", "object_ids", "user__username", "user__provider_role"
    ).iterator():
        key = (
            entry.at.strftime("%Y-%m"),
            entry.user.username,
            entry.user.provider_role,
            entry.channel,
            entry.object_type,
        )
        (refused if entry.refused else counts)[key] += 1 if entry.refused else max(len(entry.object_ids), 1)
    keys = sorted(set(counts) | set(refused))
    rows = [[*key, counts[key], refused[key]] for key in keys]
    return _csv(
        "access_log_summary.csv",
        "Reads of personal data by provider staff, per month",
        ["month", "username", "role", "channel", "record_type", "records_read", "refused_attempts"],
        rows,
    )


def _retention_file() -> _File:
    runs = RetentionRun.objects.order_by("started_at")
    rows = [
        [
            r.pk,
            _iso(r.started_at),
            _iso(r.finished_at),
            r.dry_run,
            json.dumps(r.report.get("purged", {})),
            json.dumps(r.report.get("held", {})),
            r.report.get("policy", ""),
        ]
        for r in runs
    ]
    return _csv(
        "retention_runs.csv",
        "Retention purges: what each run purged, and what legal holds kept",
        ["run", "started_at", "finished_at", "dry_run", "purged", "held", "note"],
        rows,
    )


def _dsr_file(now: dt.datetime) -> _File:
    rows = []
    for r in DataSubjectRequest.objects.order_by("raised_at").only(
        "kind", "status", "raised_at", "due_at", "completed_at"
    ):
        on_time = (r.completed_at <= r.due_at) if r.completed_at else (now <= r.due_at)
        rows.append([r.pk, r.kind, r.status, _iso(r.raised_at), _iso(r.due_at), _iso(r.completed_at), on_time])
    return _csv(
        "data_subject_requests.csv",
        "Data-subject requests and their deadlines (without who asked)",
        ["request", "kind", "status", "raised_at", "due_at", "completed_at", "on_time"],
        rows,
    )


def _incident_file(company: ClientCompany) -> _File:
    from compliance.incidents.models import IncidentCompany

    data = []
    affected = IncidentCompany.objects.filter(company=company).select_related("incident").order_by("deadline")
    for a in affected.prefetch_related("notifications"):
        i = a.incident
        data.append(
            {
                "incident": i.pk,
                "title": i.title,
                "description": i.description,
                "severity": i.severity,
                "detected_at": i.detected_at,
                "contained_at": i.contained_at,
                "reported_at": i.reported_at,
                "categories": i.categories,
                "estimated_subjects_all_companies": i.estimated_subjects,
                "notification_hours": a.notification_hours,
                "deadline": a.deadline,
                "notified_at": a.notified_at,
                "notified_in_time": bool(a.notified_at and a.notified_at <= a.deadline),
                "notifications": [{"sent_at": n.sent_at, "channel": n.channel} for n in a.notifications.all()],
            }
        )
    return _json(
        "incidents.json", "Incidents that affected the company, with its notification deadlines", data, len(data)
    )


def _security_file(company: ClientCompany) -> _File:
    """The measures in force, read from the running configuration rather than written by hand."""
    from compliance.agreements.selectors import dpa_in_force

    version = dpa_in_force(company=company)
    # Every entry written so far is linked before the chain is walked: the pack speaks for them all.
    audit_seal()
    checked, broken = chain_verify()
    from tenants.crypto import EncryptedMixin
    from tenants.keys import SHREDDING_STATEMENT, keys_summary

    # Only what is encrypted: some personal fields are derived values kept in the clear (a keyed
    # pseudonym, what a data-subject request found) and gated rather than encrypted.
    encrypted = sorted(
        {
            f"{e.model._meta.label}.{e.field}"
            for e in registry()
            if isinstance(e.model._meta.get_field(e.field), EncryptedMixin)
        }
    )
    data = {
        "agreed_measures": version.security_measures if version else "",
        "encryption_at_rest": {
            "personal_fields_encrypted": encrypted,
            "files_encrypted": True,
            "company_keys": keys_summary(company_id=company.pk),
            "end_of_service": SHREDDING_STATEMENT,
        },
        "encryption_in_transit": {
            "https_redirect": settings.SECURE_SSL_REDIRECT,
            "hsts_seconds": settings.SECURE_HSTS_SECONDS,
            "secure_cookies": settings.SESSION_COOKIE_SECURE,
        },
        "staff_sign_in": {"second_factor_required_in_admin": True, "failed_sign_in_limit": settings.AXES_FAILURE_LIMIT},
        "access_control": "Provider staff see only the companies they are assigned to, the records they are "
        "granted, and the data categories the agreement in force grants their role.",
        "audit_trail": {"hash_chain_links_verified": checked, "hash_chain_intact": broken is None},
        "retention": "A daily job purges personal data past the retention periods of the agreement in force.",
    }
    return _json("security_measures.json", "Security measures in force (Art. 32), read from the configuration", data, 1)


def _checkpoint_files(company: ClientCompany) -> list[_File]:
    """The signed checkpoints of the company's chain, in the format `audit_checkpoint --out` writes,
    and the public key that verifies them: what the client keeps, outside our database."""
    lines = list(checkpoint_lines(company))
    return [
        _File(
            "audit_checkpoints.jsonl",
            "Signed checkpoints of the audit hash chain (one JSON line each; verify with the public key)",
            "".join(line + "\n" for line in lines).encode(),
            len(lines),
        ),
        _File(
            "audit_public_key.pem",
            f"The provider's Ed25519 audit public key (SHA-256 fingerprint {key_fingerprint()})",
            public_key_pem().encode(),
            1,
        ),
    ]


def _index(company: ClientCompany, actor: User, made: dt.datetime, files: list[_File]) -> bytes:
    rows = "\n".join(
        f'<tr><td><a href="{html.escape(f.name)}">{html.escape(f.name)}</a></td><td>{html.escape(f.title)}</td>'
        f"<td>{f.rows}</td><td><code>{hashlib.sha256(f.content).hexdigest()}</code></td></tr>"
        for f in files
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Audit evidence: {html.escape(company.name)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b2230}}
table{{border-collapse:collapse;width:100%}}td,th{{text-align:left;padding:.4rem;border-bottom:1px solid #d5dae4}}
code{{font-size:.75rem}}</style></head>
<body><h1>Audit evidence: {html.escape(company.name)}</h1>
<p>Generated by Vastaja from its records on {made:%Y-%m-%d %H:%M} UTC at the request of
{html.escape(actor.get_username())}. Nothing in this pack was typed by hand. It concerns this company only and
holds no personal data of callers.</p>
<table><thead><tr><th>File</th><th>What it holds</th><th>Rows</th><th>SHA-256</th></tr></thead>
<tbody>
{rows}
</tbody></table></body></html>
""".encode()


def evidence_pack_produce(*, actor: User) -> EvidencePack:
    """Assemble the current company's evidence pack and store it, encrypted."""
    company = connection.tenant
    if not getattr(company, "is_client", False):
        raise ApplicationError("an evidence pack is made inside a client company")
    made = timezone.now()
    files = [
        *_agreement_files(company),
        _sub_processors_used_file(company, made),
        _staff_file(company),
        _access_log_file(),
        _retention_file(),
        _dsr_file(made),
        _incident_file(company),
        _security_file(company),
        *_checkpoint_files(company),
    ]
    manifest = {
        "company": company.schema_name,
        "generated_at": made.isoformat(),
        "requested_by": actor.username,
        "files": {f.name: hashlib.sha256(f.content).hexdigest() for f in files},
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("index.html", _index(company, actor, made, files))
        archive.writestr("manifest.json", json.dumps(manifest, indent=2))
        for f in files:
            archive.writestr(f.name, f.content)
    content = buffer.getvalue()
    return EvidencePack.objects.create(
        requested_by=actor,
        file=encrypted_file_save(folder="evidence", content=content),
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        contents={f.name: f.rows for f in files},
    )


def evidence_pack_read(*, pack: EvidencePack, actor: User, channel: str, path: str = "") -> bytes:
    """The pack's ZIP; every download is in the access log."""
    fields_read.send(
        sender=EvidencePack,
        user=actor,
        channel=channel,
        model=EvidencePack,
        object_ids=[pack.pk],
        fields=["file"],
        path=path,
    )
    return encrypted_file_read(pack.file)
