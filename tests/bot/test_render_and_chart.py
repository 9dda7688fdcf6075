"""Pure parts: pagination, the export arguments, and the chart as a real PNG."""
from __future__ import annotations

import io
from datetime import date

from matplotlib.image import imread

from tikabot.bot.commands import parse_export_args
from tikabot.bot.render import page_text, paginate
from tikabot.bot.charts import PNG_SIGNATURE, doses_chart

TODAY = date(2026, 3, 2)


def test_paginate_clamps_pages():
    items = [str(i) for i in range(23)]
    assert paginate(items, 1) == (items[:10], 1, 3)
    assert paginate(items, 3) == (items[20:], 3, 3)
    assert paginate(items, 99)[1:] == (3, 3)
    assert paginate(items, 0)[1] == 1
    assert page_text("Title", [], 1, "Nothing.") == ("Title\nNothing.", 1, 1)


def test_export_arguments_in_either_order():
    assert parse_export_args([], TODAY) == (None, TODAY)
    assert parse_export_args(["kal01", "2026-03-01"], TODAY) == ("KAL01", date(2026, 3, 1))
    assert parse_export_args(["2026-03-01", "KAL01"], TODAY) == ("KAL01", date(2026, 3, 1))
    assert "not a real date" in parse_export_args(["2026-02-30"], TODAY)
    assert "Send /export" in parse_export_args(["KAL01", "BAR02"], TODAY)
    assert "Send /export" in parse_export_args(["<script>"], TODAY)


def test_the_chart_is_a_png_with_both_panels():
    png = doses_chart(TODAY, {"KAL01": 40, "BAR02": 12}, {9: 10, 10: 30, 11: 12})
    assert png.startswith(PNG_SIGNATURE)
    pixels = imread(io.BytesIO(png), format="png")
    assert pixels.shape[:2] == (700, 900)
    assert doses_chart(TODAY, {}, {}).startswith(PNG_SIGNATURE)  # an empty day still draws


def test_export_of_a_day_at_the_end_of_the_calendar_says_the_date_is_not_usable():
    for day in ("9999-12-31", "0001-01-01"):  # their bounds overflow a datetime
        assert "not a real date" in parse_export_args([day], TODAY)
    assert parse_export_args(["9999-12-30"], TODAY) == (None, date(9999, 12, 30))
