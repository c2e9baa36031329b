"""The one CSV writer (gates/exports.py): a cell that a spreadsheet would run as a formula is made
text, numbers stay numbers, and the file is a private UTF-8 attachment."""

from __future__ import annotations

import pytest

from gates.exports import csv_cell, csv_stream


def test_the_csv_cannot_smuggle_a_formula():
    assert csv_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert csv_cell("-12") == "-12"
    assert csv_cell("@SUM(A1)") == "'@SUM(A1)"


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+3725551234 call me", "'+3725551234 call me"),
        ("-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0"),
        ("\tTAB", "'\tTAB"),
        ("\rCR", "'\rCR"),
        ("+37255512345", "+37255512345"),  # a phone number in E.164 is a number, not a formula
        ("-0.5", "-0.5"),
        ("a=b", "a=b"),
        (None, ""),
        (42, "42"),
    ],
)
def test_each_cell_that_starts_like_a_formula_is_made_text(value, cell):
    assert csv_cell(value) == cell


def test_the_response_streams_a_private_utf8_attachment_with_the_header_first():
    response = csv_stream(filename="access-log.csv", header=["who", "=role"], rows=[["Õnne", "@x"], [None, 3]])
    assert response["Content-Disposition"] == 'attachment; filename="access-log.csv"'
    assert response["Cache-Control"] == "private, no-store"
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body == "\ufeffwho,'=role\r\nÕnne,'@x\r\n,3\r\n"
