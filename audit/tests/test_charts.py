"""The server-drawn charts: round axes, gaps where a day has no figure, and text that cannot inject."""

from __future__ import annotations

from audit.charts import Series, lines, nice_ceiling, stacked_bars


def test_the_axis_tops_at_a_round_number():
    assert [nice_ceiling(v) for v in (0, 0.7, 1, 3, 7, 11, 240, 251)] == [1, 1, 1, 5, 10, 20, 250, 500]


def test_stacked_bars_draw_one_rect_per_nonzero_value_with_its_figure():
    svg = stacked_bars(
        chart_id="c",
        title="Calls",
        description="d",
        labels=["1 Apr", "2 Apr"],
        series=[Series("Answered", "#000", [3, 0]), Series("Abandoned", "#f00", [1, 2])],
    )
    assert svg.count("<rect x=") - 2 == 3  # two legend swatches, then 3 bars (a zero draws nothing)
    assert "<title>1 Apr: Answered 3</title>" in svg


def test_a_missing_day_breaks_the_line():
    svg = lines(
        chart_id="c",
        title="t",
        description="d",
        labels=list("abcde"),
        series=[Series("Median", "#000", [1, 2, None, 4, None])],
    )
    assert svg.count("<polyline") == 1  # a, b joined; d alone is a dot
    assert svg.count("<circle") == 3


def test_text_is_escaped():
    svg = lines(
        chart_id="c",
        title="<script>alert(1)</script>",
        description="&",
        labels=["<b>"],
        series=[Series('"><img src=x>', "#000", [1])],
    )
    assert "<script>" not in svg
    assert "<img" not in svg
    assert "&lt;script&gt;" in svg
