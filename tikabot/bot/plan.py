"""The plan of a site's day: how many doses its booked slots would have given by a moment.

A person booked for 09:00-11:00 is expected to be vaccinated at an even pace across those two
hours: by 10:00 the slot "owes" half a dose. Summed over a site's appointments this is the line a
site's doses are held against (/status's "behind plan", the chart's expected line). A slot we
cannot read counts as 09:00-17:00, the usual session day.
"""
from __future__ import annotations

from datetime import date, datetime, time
from typing import Iterable

from tikabot.core.clock import as_utc, local_at
from tikabot.i18n.dates import parse_slot

DEFAULT_SLOT = (time(9, 0), time(17, 0))


def slot_window(slot: str | None, day: date, tz: str) -> tuple[datetime, datetime]:
    """A slot's start and end on a day, as UTC instants."""
    start, end = (parse_slot(slot or "") or DEFAULT_SLOT)
    first, last = local_at(day, start, tz), local_at(day, end, tz)
    return (first, last) if last > first else (first, local_at(day, DEFAULT_SLOT[1], tz))


def expected_by(slots: Iterable[str], moment: datetime, day: date, tz: str) -> float:
    """Doses the booked slots would have given by `moment` (a fraction for a slot under way)."""
    moment = as_utc(moment)
    total = 0.0
    for slot in slots:
        start, end = slot_window(slot, day, tz)
        if moment >= end:
            total += 1.0
        elif moment > start:
            total += (moment - start) / (end - start)
    return total


def first_start(slots: Iterable[str], day: date, tz: str) -> datetime | None:
    """When the earliest booked slot begins (the moment a site should have opened), or None."""
    starts = [slot_window(slot, day, tz)[0] for slot in slots]
    return min(starts) if starts else None


def session_hours(slots: Iterable[str], day: date, tz: str) -> tuple[datetime, datetime]:
    """From the earliest slot's start to the latest slot's end (the usual day when none is booked)."""
    windows = [slot_window(slot, day, tz) for slot in slots] or [slot_window(None, day, tz)]
    return min(w[0] for w in windows), max(w[1] for w in windows)
