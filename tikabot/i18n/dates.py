"""Dates and appointment slots as a reader of each language says them (Babel's CLDR data).

    Day(date(2026, 12, 30)).localize("bn")                -> "৩০ ডিসেম্বর"
    Day(date(2026, 12, 30), today=...).localize("hi")     -> "कल" when that is tomorrow
    Slot("09:00-11:00").localize("bn" | "hi" | "en")      -> "সকাল ৯টা–১১টা" | "सुबह 9–11 बजे" | "9-11 am"
    Clock(time(11, 5)).localize("bn" | "hi" | "en")        -> "সকাল ১১:০৫" | "सुबह 11:05 बजे" | "11:05"

Month names and the parts of the day (সকাল, দুপুর, বিকেল, সন্ধ্যা; सुबह, दोपहर, शाम, रात) come
from CLDR, not from tables of our own; two CLDR words are replaced by the ones West Bengal's
health SMS use (বিকাল -> বিকেল, রাত্রি -> রাত). English stays GSM-7: ASCII digits, a hyphen,
no narrow no-break space (which CLDR puts before "AM"). A value that is not a date or a slot of
the `HH:MM-HH:MM` form is shown as it is.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time

from babel.dates import format_date, format_time

from tikabot.i18n.numbers import native_digits

DATE_PATTERN = {"en": "d MMM", "bn": "d MMMM", "hi": "d MMMM"}
RELATIVE = {  # days after today -> word
    "en": {0: "today", 1: "tomorrow"},
    "bn": {0: "আজ", 1: "আগামীকাল"},
    "hi": {0: "आज", 1: "कल"},
}
PERIOD_WORDS = {"বিকাল": "বিকেল", "রাত্রি": "রাত", "मध्यरात्रि": "रात"}
SLOT = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
DASH = {"en": "-", "bn": "\u2013", "hi": "\u2013"}


def day_text(day: date, lang: str, today: date | None = None) -> str:
    """The date in lang: 'today'/'tomorrow' in words when today is given and it is one of them."""
    if today is not None and (day - today).days in RELATIVE[lang]:
        return RELATIVE[lang][(day - today).days]
    return native_digits(format_date(day, DATE_PATTERN[lang], locale=lang), lang)


@dataclass(frozen=True)
class Day:
    """A date to show; with `today`, shown as 'today' or 'tomorrow' when it is."""
    day: date
    today: date | None = None

    def localize(self, lang: str) -> str:
        return day_text(self.day, lang, self.today)


def _period(at: time, lang: str) -> str:
    word = format_time(at, "B", locale=lang)
    return PERIOD_WORDS.get(word, word)


def _clock_bn(at: time) -> str:
    hour = at.hour % 12 or 12
    if at.minute == 30:
        return {1: "দেড়টা", 2: "আড়াইটা"}.get(hour, f"সাড়ে {hour}টা")
    return f"{hour}টা" + (f" {at.minute}" if at.minute else "")


def _clock_hi(at: time) -> str:
    hour = at.hour % 12 or 12
    if at.minute == 30:
        return {1: "डेढ़", 2: "ढाई"}.get(hour, f"साढ़े {hour}")
    return f"{hour}:{at.minute:02d}" if at.minute else str(hour)


def _clock_en(at: time) -> str:
    hour = at.hour % 12 or 12
    return f"{hour}:{at.minute:02d}" if at.minute else str(hour)


def clock_text(at: time, lang: str) -> str:
    """An exact time of day (when something happened), with the part of the day in words: "সকাল
    ১১:০৫", "सुबह 11:05 बजे"; English keeps the 24-hour "11:05" (GSM-7, no am/pm to misread)."""
    if lang == "en":
        return f"{at.hour:02d}:{at.minute:02d}"
    clock = f"{_period(at, lang)} {at.hour % 12 or 12}:{at.minute:02d}"
    return native_digits(clock, lang) + (" बजे" if lang == "hi" else "")


@dataclass(frozen=True)
class Clock:
    """A time of day to show, as clock_text writes it."""
    at: time

    def localize(self, lang: str) -> str:
        return clock_text(self.at, lang)


SLOT_MAX_CHARS = 30  # a DLT template variable carries at most 30 characters (dlt/rules.py)


def slot_text(start: time, end: time, lang: str) -> str:
    """The slot as people say it: "সকাল ৯টা–১১টা", "सुबह 9–11 बजे", "9-11 am". Where that is longer
    than a DLT variable holds (a slot from one part of the day into the next, on half hours: "বিকেল
    সাড়ে ৫টা–সন্ধ্যা সাড়ে ৬টা", 33 characters), the end's part of the day is left out, as people
    say it too ("বিকেল সাড়ে ৫টা–সাড়ে ৬টা", "सुबह साढ़े 11–साढ़े 12 बजे"): an operator's DLT
    scrubber blocks an SMS whose variable is longer than it was registered for."""
    text = _slot_text(start, end, lang)
    if len(text) > SLOT_MAX_CHARS and lang != "en":
        text = _slot_text(start, end, lang, end_period=False)
    return text


def _slot_text(start: time, end: time, lang: str, end_period: bool = True) -> str:
    dash = DASH[lang]
    if lang == "en":
        first, second = ("am" if start.hour < 12 else "pm"), ("am" if end.hour < 12 else "pm")
        head = _clock_en(start) if first == second else f"{_clock_en(start)} {first}"
        return f"{head}{dash}{_clock_en(end)} {second}"
    same = _period(start, lang) == _period(end, lang) or not end_period
    if lang == "bn":
        tail = _clock_bn(end) if same else f"{_period(end, lang)} {_clock_bn(end)}"
        text = f"{_period(start, lang)} {_clock_bn(start)}{dash}{tail}"
    else:  # hi: "सुबह 9–11 बजे", "सुबह 11 बजे–दोपहर 1 बजे"
        head = f"{_period(start, lang)} {_clock_hi(start)}" + ("" if same else " बजे")
        tail = _clock_hi(end) if same else f"{_period(end, lang)} {_clock_hi(end)}"
        text = f"{head}{dash}{tail} बजे"
    return native_digits(text, lang)


def parse_slot(text: str) -> tuple[time, time] | None:
    found = SLOT.match(text or "")
    if not found:
        return None
    h1, m1, h2, m2 = map(int, found.groups())
    try:
        return time(h1, m1), time(h2, m2)
    except ValueError:
        return None


@dataclass(frozen=True)
class Slot:
    """An appointment slot as stored ("09:00-11:00"), shown as people say it."""
    text: str

    def localize(self, lang: str) -> str:
        found = parse_slot(self.text)
        return slot_text(*found, lang) if found else self.text
