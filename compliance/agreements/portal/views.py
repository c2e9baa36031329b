"""The client's agreement screen: the DPA in force (categories granted, retention), versions
awaiting the client's signature (sign, or reject saying why), and the sub-processors, with an
objection while a sub-processor's window is open. Client admins decide; members read.

Agreements live in the shared public schema, so every lookup here is narrowed to the host's
company: another company's version or sub-processor id is a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from compliance.agreements.models import AgreementVersion, SubProcessor
from compliance.agreements.portal.forms import ObjectionForm, RejectForm
from compliance.agreements.selectors import (
    dpa_active_for_company,
    dpa_awaiting_client,
    dpa_diff,
    dpa_versions_for_company,
    sub_processors_for_company,
)
from compliance.agreements.services import dpa_reject_for_client, dpa_sign_for_client, sub_processor_object
from gates.portal import client_admin_page, client_page, is_client_admin
from tenants.categories import TAXONOMY
from tenants.errors import ApplicationError
from tenants.timezones import in_company_zone

AWAITING = (AgreementVersion.Status.SUBMITTED, AgreementVersion.Status.UNDER_REVIEW)


@client_page
@in_company_zone
def agreement_page(request):
    return _page(request)


@client_admin_page
@require_POST
@in_company_zone
def version_sign(request, pk: int):
    version = _version_or_404(request, pk)
    if version.status not in AWAITING:
        return _not_awaiting(request, version)
    try:
        dpa_sign_for_client(version=version, actor=request.user)
    except ApplicationError as exc:
        return _page(request, sign_errors={version.pk: exc.message})
    messages.success(
        request, _("You signed version %(number)s. The DPO activates it once approved.") % {"number": version.number}
    )
    return redirect("portal-agreement")


@client_admin_page
@require_POST
@in_company_zone
def version_reject(request, pk: int):
    version = _version_or_404(request, pk)
    if version.status not in AWAITING:
        return _not_awaiting(request, version)
    form = RejectForm(request.POST, prefix=f"v{version.pk}")
    if form.is_valid():
        try:
            dpa_reject_for_client(version=version, actor=request.user, comment=form.cleaned_data["comment"])
        except ApplicationError as exc:
            form.add_error("comment" if exc.field == "comment" else None, exc.message)
        else:
            messages.success(
                request,
                _("You rejected version %(number)s; the provider has your comment.") % {"number": version.number},
            )
            return redirect("portal-agreement")
    return _page(request, reject_forms={version.pk: form})


@client_admin_page
@require_POST
@in_company_zone
def sub_processor_objection(request, pk: int):
    sub = (
        SubProcessor.objects.filter(pk=pk, version__agreement__company=request.tenant)
        .select_related("version__agreement__company")
        .first()
    )
    if sub is None:
        raise Http404
    form = ObjectionForm(request.POST, prefix=f"s{sub.pk}")
    if form.is_valid():
        try:
            sub_processor_object(sub_processor=sub, actor=request.user, reason=form.cleaned_data["reason"])
        except ApplicationError as exc:
            if exc.field != "reason":
                # The sub-processor's state refused it (window closed, already objected), and its form
                # may no longer be on the page: say so above everything.
                messages.error(request, exc.message)
                return redirect("portal-agreement")
            form.add_error("reason", exc.message)
        else:
            messages.success(
                request, _("Your objection to %(name)s is recorded; the DPO will answer it.") % {"name": sub.name}
            )
            return redirect("portal-agreement")
    return _page(request, objection_forms={sub.pk: form})


def _page(request, *, sign_errors=None, reject_forms=None, objection_forms=None):
    company = request.tenant
    today = timezone.localdate()
    active = dpa_active_for_company(company=company)
    awaiting = [
        {
            "version": version,
            "diff": dpa_diff(version=version, against=active),
            "sign_error": (sign_errors or {}).get(version.pk),
            "reject_form": (reject_forms or {}).get(version.pk) or RejectForm(prefix=f"v{version.pk}"),
            "grants": _grant_rows(version),
            "label_id": f"pending-{version.pk}",
        }
        for version in dpa_awaiting_client(company=company)
    ]
    subs = [
        {
            "sub": sub,
            "open": sub.authorised_on <= today < sub.objection_window_ends,
            "objection": getattr(sub, "objection", None),
            "form": (objection_forms or {}).get(sub.pk) or ObjectionForm(prefix=f"s{sub.pk}"),
        }
        for sub in sub_processors_for_company(company=company)
    ]
    shown = (AgreementVersion.Status.ACTIVE, AgreementVersion.Status.SUBMITTED, AgreementVersion.Status.UNDER_REVIEW)
    history = [v for v in dpa_versions_for_company(company=company) if v.status not in shown]
    context = {
        "active": active,
        "in_force": active is not None and active.in_force_on(today),
        "grants": _grant_rows(active) if active else [],
        "awaiting": awaiting,
        "subs": subs,
        "history": history,
        "can_decide": is_client_admin(request),
        "taxonomy": TAXONOMY,
    }
    return render(request, "agreements/portal/agreement.html", context)


def _grant_rows(version: AgreementVersion) -> list[dict]:
    """One row per category: which provider roles may read and write it, and for how long it is kept."""
    rows: dict[str, dict] = {}
    for grant in version.grants.all():
        row = rows.setdefault(grant.category, {"category": grant.category, "label": TAXONOMY.get(grant.category, "")})
        row[f"{grant.role}_{grant.action}"] = True
    retention = {rule.category: rule.days for rule in version.retention_rules.all()}
    for category, row in rows.items():
        row["days"] = retention.get(category) or next(
            (days for kept, days in retention.items() if category.startswith(kept + ".")), None
        )
    return [rows[key] for key in sorted(rows)]


def _not_awaiting(request, version: AgreementVersion):
    # Its form is no longer on the page (someone else decided first): say so above everything.
    messages.error(
        request,
        _("Version %(number)s is not waiting for your signature any more (it is %(status)s).")
        % {"number": version.number, "status": version.get_status_display().lower()},
    )
    return redirect("portal-agreement")


def _version_or_404(request, pk: int) -> AgreementVersion:
    version = dpa_versions_for_company(company=request.tenant).filter(pk=pk).first()
    if version is None:
        raise Http404
    return version
