"""The one CSV writer. Every CSV the platform writes (admin exports, the audit screens' downloads,
evidence packs, the record of processing) goes through it, so that none can carry a formula.

A spreadsheet runs a cell that starts like a formula (`=HYPERLINK(...)`, `+`, `-`, `@`, a tab or a
carriage return): such a cell is written with a leading apostrophe, which makes it text (OWASP,
"CSV injection"). Numbers, negative ones included, stay numbers.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence

from django.http import HttpResponse, StreamingHttpResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"  # so that spreadsheet programs read UTF-8 (Estonian letters) right


def csv_cell(value) -> str:
    """A value as a CSV cell that no spreadsheet will run."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


class CsvWriter:
    """csv.writer's writerow/writerows, with every cell made safe first."""

    def __init__(self, handle):
        self._writer = csv.writer(handle)

    def writerow(self, row: Iterable):
        return self._writer.writerow([csv_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable]) -> None:
        for row in rows:
            self.writerow(row)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _headers(response, filename: str):
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


def csv_download(*, filename: str, header: Sequence[str], rows: Iterable[Sequence]) -> HttpResponse:
    """A CSV download built before the view returns: for rows that must be read (and logged)
    inside the request's company."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response.write(BOM)
    writer = CsvWriter(response)
    writer.writerow(header)
    writer.writerows(rows)
    return _headers(response, filename)


def csv_stream(*, filename: str, header: Sequence[str], rows: Iterable[Sequence]) -> StreamingHttpResponse:
    """A CSV download streamed row by row, for long lists."""
    writer = CsvWriter(_Echo())

    def lines():
        yield BOM
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    return _headers(response, filename)
