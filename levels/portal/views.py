"""The client's Service level screen: its own lines' figures per day and per hour, charts drawn on
the server (audit/charts.py), and the same rows as CSV. No person is in any of it."""

from __future__ import annotations

from django.http import HttpResponseBadRequest
from django.shortcuts import render
from django.utils import formats
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from audit import charts
from audit.forms import stats_default_period
from gates.exports import csv_stream
from gates.portal import client_page
from levels.forms import LevelsFilterForm
from levels.selectors import COUNTS, FIGURES, Figures, levels_by_day, levels_by_hour, levels_list, levels_total

COLOURS = {"answered": "#1d6b3a", "abandoned": "#a4161a", "overflowed": "#1f4fb3", "handle": "#7a4b00"}

CSV_HEADER = ["day", "hour", "utc_offset_minutes", "line", *COUNTS, *FIGURES, "target_seconds"]


_percent, _seconds = charts.percent_label, charts.seconds_label


@require_GET
@client_page
def service_level(request):
    """Offered, answered and abandoned calls, ASA, service level and handle time of the company's
    lines, per day of the period and per hour of its last day."""
    form = LevelsFilterForm(request.GET)
    valid = form.is_valid()
    if valid:
        start, end, line = form.cleaned_data["date_from"], form.cleaned_data["date_to"], form.cleaned_data["line"]
    else:
        (start, end), line = stats_default_period(), None
    line_id = line.pk if line else None
    days = levels_by_day(date_from=start, date_to=end, line_id=line_id)
    hours = levels_by_hour(day=end, line_id=line_id)
    total = levels_total(levels_list(date_from=start, date_to=end, line_id=line_id))
    labels = [formats.date_format(day, "MONTH_DAY_FORMAT") for day, _figures in days]
    period = _("%(start)s to %(end)s") % {"start": formats.date_format(start), "end": formats.date_format(end)}
    chart_list = [
        charts.stacked_bars(
            chart_id="chart-levels-volume",
            title=_("Calls offered per day"),
            labels=labels,
            description=_("Stacked bars per day, %(period)s: answered, abandoned and overflowed calls.")
            % {"period": period},
            series=[
                charts.Series(_("Answered"), COLOURS["answered"], [f.answered for _d, f in days]),
                charts.Series(_("Abandoned"), COLOURS["abandoned"], [f.abandoned for _d, f in days]),
                charts.Series(_("Overflowed"), COLOURS["overflowed"], [f.overflowed for _d, f in days]),
            ],
        ),
        charts.lines(
            chart_id="chart-levels-service",
            title=_("Service level"),
            labels=labels,
            top=1.0,
            y_format=_percent,
            description=_("Share of calls answered within the line's target, per day, %(period)s.")
            % {"period": period},
            series=[
                charts.Series(_("Service level"), COLOURS["answered"], [f.service_level for _d, f in days]),
                charts.Series(_("Abandon rate"), COLOURS["abandoned"], [f.abandon_rate for _d, f in days]),
            ],
        ),
        charts.lines(
            chart_id="chart-levels-times",
            title=_("Speed of answer and handle time"),
            labels=labels,
            y_format=_seconds,
            description=_("Average seconds to answer and average handle time per day, %(period)s.")
            % {"period": period},
            series=[
                charts.Series(_("Average speed of answer"), COLOURS["answered"], [f.asa_seconds for _d, f in days]),
                charts.Series(_("Average handle time"), COLOURS["handle"], [f.handle_seconds for _d, f in days]),
            ],
        ),
    ]
    return render(
        request,
        "levels/portal/service_level.html",
        {
            "form": form,
            "days": days,
            "hours": hours,
            "last_day": end,
            "charts": chart_list,
            "total": total,
            "period": period,
            "has_data": bool(total.offered),
            "line": line,
            "zone": request.tenant.time_zone,
        },
        status=200 if valid else 400,
    )


def _rate(value):
    return None if value is None else round(value, 4)


@require_GET
@client_page
def service_level_csv(request):
    """The rollup rows of the period (line and local hour), with the figures made from each."""
    form = LevelsFilterForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest(form.errors.as_text(), content_type="text/plain; charset=utf-8")
    data = form.cleaned_data
    rows = levels_list(
        date_from=data["date_from"], date_to=data["date_to"], line_id=data["line"].pk if data["line"] else None
    )

    def lines():
        for row in rows.iterator(chunk_size=2000):
            figures = Figures.of(row)
            yield (
                row.day.isoformat(),
                row.hour,
                row.utc_offset_minutes,
                row.line.name,
                *(getattr(row, name) for name in COUNTS),
                *(_rate(getattr(figures, name)) for name in FIGURES.values()),
                row.target_seconds,
            )

    return csv_stream(
        filename=f"service-level-{request.tenant.schema_name}-{data['date_from']}-{data['date_to']}.csv",
        rows=lines(),
        header=CSV_HEADER,
    )
