"""Dates and slots as each reader says them, from Babel's CLDR data; English stays GSM-7."""
from __future__ import annotations

from datetime import date

import pytest

from tikabot.i18n.catalog import render
from tikabot.i18n.dates import SLOT_MAX_CHARS, Day, Slot, day_text
from tikabot.i18n.encoding import GSM7, encoding_of

TODAY = date(2026, 12, 29)


@pytest.mark.parametrize("day, lang, text", [
    (date(2026, 12, 30), "bn", "৩০ ডিসেম্বর"),
    (date(2026, 12, 30), "hi", "30 दिसंबर"),  # Hindi SMS are read with ASCII digits (CLDR: latn)
    (date(2026, 12, 30), "en", "30 Dec"),
    (date(2027, 2, 3), "bn", "৩ ফেব্রুয়ারি"),
    (date(2027, 9, 15), "hi", "15 सितंबर"),
])
def test_dates_use_cldr_month_names_and_the_readers_digits(day, lang, text):
    assert day_text(day, lang) == text


@pytest.mark.parametrize("lang, today, tomorrow", [("bn", "আজ", "আগামীকাল"), ("hi", "आज", "कल"),
                                                    ("en", "today", "tomorrow")])
def test_today_and_tomorrow_are_words(lang, today, tomorrow):
    assert Day(TODAY, TODAY).localize(lang) == today
    assert Day(date(2026, 12, 30), TODAY).localize(lang) == tomorrow
    assert Day(date(2026, 12, 31), TODAY).localize(lang) == day_text(date(2026, 12, 31), lang)


@pytest.mark.parametrize("slot, bn, hi, en", [
    ("09:00-11:00", "সকাল ৯টা–১১টা", "सुबह 9–11 बजे", "9-11 am"),
    ("11:00-13:00", "সকাল ১১টা–দুপুর ১টা", "सुबह 11 बजे–दोपहर 1 बजे", "11 am-1 pm"),
    ("13:00-15:00", "দুপুর ১টা–৩টা", "दोपहर 1–3 बजे", "1-3 pm"),
    ("15:00-17:00", "দুপুর ৩টা–বিকেল ৫টা", "दोपहर 3 बजे–शाम 5 बजे", "3-5 pm"),
    ("17:30-19:00", "বিকেল সাড়ে ৫টা–সন্ধ্যা ৭টা", "शाम साढ़े 5–7 बजे", "5:30-7 pm"),
    ("09:30-10:15", "সকাল সাড়ে ৯টা–১০টা ১৫", "सुबह साढ़े 9–10:15 बजे", "9:30-10:15 am"),
    ("not a slot", "not a slot", "not a slot", "not a slot"),
])
def test_slots_read_as_people_say_them(slot, bn, hi, en):
    assert [Slot(slot).localize(lang) for lang in ("bn", "hi", "en")] == [bn, hi, en]


@pytest.mark.parametrize("slot, bn, hi", [
    ("17:30-18:30", "বিকেল সাড়ে ৫টা–সাড়ে ৬টা", "शाम साढ़े 5–साढ़े 6 बजे"),
    ("11:30-12:30", "সকাল সাড়ে ১১টা–সাড়ে ১২টা", "सुबह साढ़े 11–साढ़े 12 बजे"),
])
def test_a_slot_too_long_for_a_dlt_variable_leaves_out_the_ends_part_of_the_day(slot, bn, hi):
    """"বিকেল সাড়ে ৫টা–সন্ধ্যা সাড়ে ৬টা" is 33 characters: a DLT variable holds 30, and an operator
    blocks an SMS whose variable is longer than registered. People say it shorter too."""
    assert [Slot(slot).localize(lang) for lang in ("bn", "hi")] == [bn, hi]


@pytest.mark.parametrize("lang", ["bn", "hi", "en"])
def test_every_slot_on_the_half_hour_grid_fits_a_dlt_variable(lang):
    grid = [f"{m // 60:02d}:{m % 60:02d}" for m in range(0, 24 * 60, 30)]
    widest = max((Slot(f"{a}-{b}").localize(lang) for i, a in enumerate(grid) for b in grid[i + 1:]), key=len)
    assert len(widest) <= SLOT_MAX_CHARS == 30, widest


def test_an_english_message_with_a_date_and_slot_stays_gsm7():
    text = render("ben.confirmed", "en", date=Day(date(2026, 12, 30), TODAY), slot=Slot("11:00-13:00"),
                  site="Kalyani PHC")
    assert text == "Thank you. Your appointment is confirmed: tomorrow, 11 am-1 pm at Kalyani PHC."
    assert encoding_of(text) == GSM7


def test_a_bengali_message_reads_without_english_seams_and_keeps_codes_ascii():
    text = render("appt.booked", "bn", name="রহিমা", date=date(2026, 12, 30), slot=Slot("09:00-11:00"),
                  site="বসিরহাট স্বাস্থ্যকেন্দ্র ১", code="4821")
    assert text.startswith("রহিমা, টিকা ৩০ ডিসেম্বর, সকাল ৯টা–১১টা, বসিরহাট স্বাস্থ্যকেন্দ্র ১।")
    assert "সুরক্ষা কোড 4821" in text and "Dec" not in text and "09:00" not in text
