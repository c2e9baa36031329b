"""Portal pages of audit and data rights: the access log, data-subject requests and statistics."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit import charts
from audit.dsr import dsr_carry_out, dsr_export_read, dsr_raise
from audit.forms import AccessLogFilterForm, AnalyticsFilterForm, DsrFilterForm, DsrRaiseForm, stats_default_period
from audit.models import AccessLogEntry, DataSubjectRequest
from audit.selectors import (
    AccessLogFilter,
    access_log_list,
    analytics_series,
    company_zone,
    dsr_list,
    field_labels,
    line_day_stats_list,
    record_type_label,
)
from gates.exports import csv_stream
from gates.portal import client_admin_page, client_page, is_client_admin
from tenants.errors import ApplicationError

PAGE_SIZE = 50

# ---- access log --------------------------------------------------------------------------------


def _access_rows(entries):
    for entry in entries:
        yield {
            "entry": entry,
            "who": entry.user.username if entry.user else _("(automatic task)"),
            "role": _role_label(entry.user),
            "record_type": record_type_label(entry.object_type),
            "fields": field_labels(entry.object_type, entry.fields),
        }


def _role_label(user) -> str:
    if user is None:
        return _("automatic task")
    return user.get_provider_role_display() if user.provider_role else _("your company")


@require_GET
@client_admin_page
def access_log(request):
    """Who at the provider read which of the company's records, when and on which channel."""
    form = AccessLogFilterForm(request.GET or None)
    valid = form.is_valid() if form.is_bound else True
    filters = form.filters() if form.is_bound and valid else AccessLogFilter()
    page = Paginator(access_log_list(filters=filters) if valid else AccessLogEntry.objects.none(), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "audit/portal/access_log.html",
        {
            "form": form,
            "page": page,
            "rows": list(_access_rows(page.object_list)),
            "zone": company_zone().key,
        },
        status=200 if valid else 400,
    )


@require_GET
@client_admin_page
def access_log_csv(request):
    form = AccessLogFilterForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest(form.errors.as_text(), content_type="text/plain; charset=utf-8")
    zone = company_zone()

    def row(e: AccessLogEntry) -> list:
        who, role = (e.user.username, e.user.provider_role or "company") if e.user else ("", "task")
        refused = "yes" if e.refused else "no"
        return [
            e.at.astimezone(zone).isoformat(),
            who,
            role,
            e.channel,
            e.object_type,
            " ".join(e.object_ids),
            " ".join(e.fields),
            refused,
        ]

    entries = access_log_list(filters=form.filters()).iterator(chunk_size=2000)
    return csv_stream(
        filename=f"access-log-{request.tenant.schema_name}.csv",
        header=["at", "who", "role", "channel", "record_type", "record_ids", "fields", "refused"],
        rows=(row(e) for e in entries),
    )


# ---- data-subject requests ---------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@client_page
def data_requests(request):
    """The company's requests and their deadlines; client admins raise new ones here."""
    admin = is_client_admin(request)
    raise_form = None
    if admin:
        raise_form = DsrRaiseForm(request.POST if request.method == "POST" else None)
    elif request.method == "POST":
        raise Http404
    if request.method == "POST" and raise_form.is_valid():
        data = raise_form.cleaned_data
        try:
            dsr = dsr_raise(
                kind=data["kind"],
                actor=request.user,
                phone_number=data["phone_number"],
                email=data["email"],
                corrections=raise_form.corrections() or None,
            )
        except ApplicationError as exc:
            raise_form.add_error(exc.field if exc.field in raise_form.fields else None, exc.message)
        else:
            if dsr.status == DataSubjectRequest.Status.REFUSED:
                messages.error(
                    request,
                    _("%(request)s was refused: %(reason)s")
                    % {"request": _request_name(dsr), "reason": dsr.result.get("refused", "")},
                )
            else:
                messages.success(request, _("%(request)s is done.") % {"request": _request_name(dsr)})
            return redirect("portal-data-request", pk=dsr.pk)
    filter_form = DsrFilterForm(request.GET or None)
    valid = filter_form.is_valid() if filter_form.is_bound else True
    chosen = filter_form.cleaned_data if filter_form.is_bound and valid else {}
    requests = DataSubjectRequest.objects.none()
    if valid:
        requests = dsr_list(
            kind=chosen.get("kind", ""),
            status=chosen.get("status", ""),
            ordering=chosen.get("ordering") or "-raised_at",
        )
    page = Paginator(requests, PAGE_SIZE).get_page(request.GET.get("page"))
    status = 400 if (request.method == "POST" or not valid) else 200
    return render(
        request,
        "audit/portal/data_requests.html",
        {"page": page, "filter_form": filter_form, "raise_form": raise_form, "is_admin": admin},
        status=status,
    )


def _request_name(dsr: DataSubjectRequest) -> str:
    return _("%(kind)s request #%(id)s") % {"kind": dsr.get_kind_display(), "id": dsr.pk}


@require_GET
@client_page
def data_request_detail(request, pk: int):
    dsr = get_object_or_404(DataSubjectRequest, pk=pk)
    return render(
        request,
        "audit/portal/data_request_detail.html",
        {
            "dsr": dsr,
            "name": _request_name(dsr),
            "is_admin": is_client_admin(request),
            "erased": [(str(ERASED_LABELS.get(k, k)), v) for k, v in (dsr.result.get("erased") or {}).items()],
            "kept": [str(KEPT_LABELS.get(k, k)) for k in dsr.result.get("kept") or []],
            "refused": dsr.result.get("refused", ""),
            "counts": _access_counts(dsr),
            "forwarded": dsr.raised_by.is_provider_staff,
            "carry_out": is_client_admin(request) and dsr.status == DataSubjectRequest.Status.OPEN,
        },
    )


@require_POST
@client_admin_page
def data_request_carry_out(request, pk: int):
    """Carry out an open request, typically one the provider's staff received and handed over: the
    controller answers the person, and only the controller's people see what it finds."""
    dsr = get_object_or_404(DataSubjectRequest, pk=pk, status=DataSubjectRequest.Status.OPEN)
    if dsr.kind == DataSubjectRequest.Kind.ERASURE and not request.POST.get("confirm_erasure"):
        messages.error(request, _("Confirm the erasure: it cannot be undone."))
        return redirect("portal-data-request", pk=dsr.pk)
    try:
        dsr = dsr_carry_out(request=dsr, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        if dsr.status == DataSubjectRequest.Status.REFUSED:
            messages.error(
                request,
                _("%(request)s was refused: %(reason)s")
                % {"request": _request_name(dsr), "reason": dsr.result.get("refused", "")},
            )
        else:
            messages.success(request, _("%(request)s is done.") % {"request": _request_name(dsr)})
    return redirect("portal-data-request", pk=dsr.pk)


# The result is stored as audit.dsr writes it (in English); these are the words the portal shows.
ERASED_LABELS = {
    "calls anonymised": gettext_lazy("Calls anonymised"),
    "voicemail erased": gettext_lazy("Voicemails erased"),
    "recordings erased": gettext_lazy("Recordings erased"),
    "messages erased": gettext_lazy("Messages erased"),
    "appointments unlinked": gettext_lazy("Appointments unlinked from the person"),
    "other numbers deleted": gettext_lazy("Other numbers deleted"),
    "consent evidence erased": gettext_lazy("Consent evidence erased"),
    "contacts anonymised": gettext_lazy("Contact records anonymised"),
}
KEPT_LABELS = {
    "call stubs (line, times, status) without any personal field, for statistics": gettext_lazy(
        "Call stubs (line, times, status) without any personal field, for statistics"
    ),
    "consent records' purposes and dates, as proof of what was agreed (GDPR Art. 7(1))": gettext_lazy(
        "Consent records' purposes and dates, as proof of what was agreed (GDPR Art. 7(1))"
    ),
    "the change and access logs, which hold no personal values": gettext_lazy(
        "The change and access logs, which hold no personal values"
    ),
    "this request, with the number and address it was made for (encrypted), as proof of the erasure": gettext_lazy(
        "This request, with the number and address it was made for (encrypted), as proof of the erasure"
    ),
}


def _access_counts(dsr: DataSubjectRequest) -> list[tuple[str, int]]:
    if dsr.kind == DataSubjectRequest.Kind.RECTIFICATION:
        return [(_("Records corrected"), dsr.result.get("contacts corrected", 0))]
    labels = {
        "contacts": _("Contact records"),
        "calls": _("Calls"),
        "messages": _("Messages"),
        "appointments": _("Appointments"),
    }
    return [(label, dsr.result[key]) for key, label in labels.items() if key in dsr.result]


@require_GET
@client_admin_page
def data_request_export(request, pk: int):
    dsr = get_object_or_404(DataSubjectRequest, pk=pk, kind=DataSubjectRequest.Kind.ACCESS)
    try:
        content = dsr_export_read(request=dsr, user=request.user, channel="export", path=request.path)
    except ApplicationError:
        raise Http404 from None
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="access-request-{dsr.pk}.zip"'
    response["Cache-Control"] = "private, no-store"
    return response


# ---- statistics --------------------------------------------------------------------------------

COLOURS = {"answered": "#1d6b3a", "voicemail": "#1f4fb3", "abandoned": "#a4161a", "p90": "#7a4b00"}


_percent, _seconds = charts.percent_label, charts.seconds_label


@require_GET
@client_page
def analytics(request):
    """The per-line daily rollups as charts and a table (no person in them)."""
    form = AnalyticsFilterForm(request.GET)
    valid = form.is_valid()
    if valid:
        start, end, line = form.cleaned_data["date_from"], form.cleaned_data["date_to"], form.cleaned_data["line"]
    else:
        (start, end), line = stats_default_period(), None
    days = analytics_series(date_from=start, date_to=end, line_id=line.pk if line else None)
    labels = [formats.date_format(d.day, "MONTH_DAY_FORMAT") for d in days]
    period = _("%(start)s to %(end)s") % {"start": formats.date_format(start), "end": formats.date_format(end)}
    with_data = [d for d in days if d.has_data]
    totals = {
        "offered": sum(d.offered for d in with_data),
        "answered": sum(d.answered for d in with_data),
        "abandoned": sum(d.abandoned for d in with_data),
        "voicemails": sum(d.voicemails for d in with_data),
        "messages": sum(d.messages for d in with_data),
    }
    answered_weight = sum(d.answered for d in with_data if d.within_target_share is not None)
    totals["within_target_share"] = (
        (
            sum(d.within_target_share * d.answered for d in with_data if d.within_target_share is not None)
            / answered_weight
        )
        if answered_weight
        else None
    )
    totals["abandoned_share"] = totals["abandoned"] / totals["offered"] if totals["offered"] else None
    chart_list = [
        charts.stacked_bars(
            chart_id="chart-volume",
            title=_("Calls offered per day"),
            labels=labels,
            description=_("Stacked bars per day, %(period)s: answered, to voicemail and abandoned calls.")
            % {"period": period},
            series=[
                charts.Series(_("Answered"), COLOURS["answered"], [d.answered for d in days]),
                charts.Series(_("Voicemail"), COLOURS["voicemail"], [d.voicemails for d in days]),
                charts.Series(_("Abandoned"), COLOURS["abandoned"], [d.abandoned for d in days]),
            ],
        ),
        charts.lines(
            chart_id="chart-answer-times",
            title=_("Time to answer"),
            labels=labels,
            y_format=_seconds,
            description=_("Seconds to answer per day, %(period)s: the median and the 90th percentile.")
            % {"period": period},
            series=[
                charts.Series(_("Median"), COLOURS["answered"], [d.answer_p50_seconds for d in days]),
                charts.Series(_("90th percentile"), COLOURS["p90"], [d.answer_p90_seconds for d in days]),
            ],
        ),
        charts.lines(
            chart_id="chart-target",
            title=_("Answered within the target time"),
            labels=labels,
            top=1.0,
            y_format=_percent,
            description=_("Share of answered calls answered within the line's target, per day, %(period)s.")
            % {"period": period},
            series=[charts.Series(_("Within target"), COLOURS["answered"], [d.within_target_share for d in days])],
        ),
        charts.lines(
            chart_id="chart-abandoned",
            title=_("Abandoned calls"),
            labels=labels,
            top=1.0,
            y_format=_percent,
            description=_("Share of offered calls the caller abandoned, per day, %(period)s.") % {"period": period},
            series=[charts.Series(_("Abandoned"), COLOURS["abandoned"], [d.abandoned_share for d in days])],
        ),
    ]
    return render(
        request,
        "audit/portal/analytics.html",
        {
            "form": form,
            "days": days,
            "charts": chart_list,
            "totals": totals,
            "period": period,
            "has_data": bool(with_data),
            "line": line,
        },
        status=200 if valid else 400,
    )


@require_GET
@client_page
def analytics_csv(request):
    form = AnalyticsFilterForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest(form.errors.as_text(), content_type="text/plain; charset=utf-8")
    data = form.cleaned_data
    stats = line_day_stats_list(
        date_from=data["date_from"], date_to=data["date_to"], line_id=data["line"].pk if data["line"] else None
    )
    rows = (
        (
            s.day.isoformat(),
            s.line.name,
            s.line.phone_number,
            s.offered,
            s.answered,
            s.abandoned,
            s.voicemails,
            s.messages,
            s.answer_p50_seconds,
            s.answer_p90_seconds,
            s.handle_avg_seconds,
            s.within_target_share,
            s.repeat_caller_share,
        )
        for s in stats.iterator(chunk_size=2000)
    )
    return csv_stream(
        filename=f"analytics-{request.tenant.schema_name}-{data['date_from']}-{data['date_to']}.csv",
        rows=rows,
        header=[
            "day",
            "line",
            "line_number",
            "offered",
            "answered",
            "abandoned",
            "voicemails",
            "messages",
            "answer_p50_seconds",
            "answer_p90_seconds",
            "handle_avg_seconds",
            "within_target_share",
            "repeat_caller_share",
        ],
    )
