"""A statement as the company receives it: CSV (through gates/exports.py, like every CSV here) and
PDF (ReportLab: pure pip, no system libraries; see docs/client-admin-guide.md). Times in the
company's zone, named; amounts as stored, already to the cent."""

from __future__ import annotations

import io
from decimal import Decimal

from django.utils import formats
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from billing.models import Statement
from billing.selectors import company_zone, statement_lines
from gates.exports import csv_download


def _seconds(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.001'))}"


def _minutes(seconds: int) -> str:
    return f"{(Decimal(seconds) / 60).quantize(Decimal('0.01'))}"


def statement_figures(statement: Statement) -> list[tuple[str, str]]:
    """The statement's figures, labelled, in the order the documents print them."""
    c = statement.currency
    rows = [
        (_("Month"), f"{statement.month:%Y-%m}"),
        (_("Status"), statement.get_status_display()),
        (_("Billing increment (s)"), str(statement.increment_seconds)),
        (_("Minimum per call (s)"), str(statement.minimum_seconds)),
        (_("Wrap-up time counted"), _("yes") if statement.count_wrap_up else _("no")),
        (_("Transfer time counted"), _("yes") if statement.count_transfer else _("no")),
        (_("Calls billed"), str(statement.calls)),
        (_("Billed minutes"), _minutes(statement.billed_seconds)),
        (_("Included minutes"), str(statement.included_minutes)),
        (_("Overage minutes"), _minutes(statement.overage_seconds)),
        (_("Overage rate per minute"), f"{statement.overage_rate_per_minute} {c}"),
        (_("Overage"), f"{statement.overage_amount} {c}"),
        (_("Per-call fee"), f"{statement.per_call_fee} {c}"),
        (_("Per-call fees"), f"{statement.call_fees_amount} {c}"),
        (_("Total"), f"{statement.total_amount} {c}"),
    ]
    if statement.corrects_id:
        rows.insert(2, (_("Corrects statement"), f"#{statement.corrects_id}"))
    return rows


def _line_rows(statement: Statement):
    zone = company_zone()
    for line in statement_lines(statement=statement):
        yield [
            formats.date_format(line.started_at.astimezone(zone), "SHORT_DATETIME_FORMAT"),
            line.telephony_sid,
            _seconds(line.talk_seconds),
            _seconds(line.wrap_up_seconds),
            _seconds(line.transfer_seconds),
            _seconds(line.counted_seconds),
            str(line.billed_seconds),
        ]


def _line_header() -> list[str]:
    return [
        _("Started (%(zone)s)") % {"zone": company_zone().key},
        _("Call"),
        _("Talk (s)"),
        _("Wrap-up (s)"),
        _("Transfer (s)"),
        _("Counted (s)"),
        _("Billed (s)"),
    ]


def statement_csv(statement: Statement):
    """The statement as CSV: the figures first (label and value), then one row per billed call."""
    figures = [[label, value, "", "", "", "", ""] for label, value in statement_figures(statement)]
    rows = [*figures, [""] * 7, _line_header(), *_line_rows(statement)]
    return csv_download(
        filename=f"statement-{statement.month:%Y-%m}-{statement.pk}.csv",
        header=[_("Statement"), f"#{statement.pk}"],
        rows=rows,
    )


def statement_pdf(statement: Statement, *, company_name: str) -> bytes:
    """The statement as a PDF: the figures, then the billed calls."""
    out = io.BytesIO()
    styles = getSampleStyleSheet()
    doc = SimpleDocTemplate(out, pagesize=A4, title=f"Statement {statement.month:%Y-%m}", leftMargin=15 * mm)
    grid = TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
            ("FONTSIZE", (0, 0), (-1, -1), 8),
            ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
        ]
    )
    story = [
        Paragraph(f"{company_name}: {_('Statement')} {statement.month:%Y-%m} (#{statement.pk})", styles["Title"]),
        Table(statement_figures(statement), colWidths=[70 * mm, 60 * mm], style=grid),
        Spacer(1, 8 * mm),
        Table([_line_header(), *_line_rows(statement)], repeatRows=1, style=grid),
    ]
    doc.build(story)
    return out.getvalue()
