"""Field parsers shared by the import kinds. Each raises RowError with a reason a user can act on."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from tikabot.flows import report_via as bindings
from tikabot.i18n.encoding import GSM7, encoding_of
from tikabot.core.phones import BadPhone, normalise

LANGUAGES = {"en": "en", "english": "en", "bn": "bn", "bengali": "bn", "bangla": "bn",
             "বাংলা": "bn", "hi": "hi", "hindi": "hi", "हिंदी": "hi", "हिन्दी": "hi"}
SLOT = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
RELATIVE_DAY = re.compile(r"^(?:(?P<word>tomorrow)|today(?:\+(?P<days>[0-9]{1,4}))?)$")
MAX_DAYS_AHEAD = 365
YES_NO = {"": False, "no": False, "false": False, "0": False, "yes": True, "true": True, "1": True}


class RowError(ValueError):
    pass


def required(row: dict, name: str) -> str:
    value = row.get(name, "")
    if not value:
        raise RowError(f"{name} is empty")
    return value


def phone(value: str, name: str = "phone") -> str:
    try:
        return normalise(value)
    except BadPhone as exc:
        raise RowError(f"{name}: {exc}") from exc


def ref(value: str) -> str:
    digits = value.replace("-", "").replace(" ", "")
    if not (digits.isascii() and digits.isdigit() and 6 <= len(digits) <= 14):
        raise RowError(f"ref {value!r} must be 6-14 digits")
    return digits


def language(value: str, default: str) -> str:
    if not value:
        return default
    lang = LANGUAGES.get(value.strip().lower())
    if lang is None:
        raise RowError(f"language {value!r} must be en, bn or hi")
    return lang


def site_code(value: str) -> str:
    if not CODE.match(value):
        raise RowError(f"site code {value!r} may hold only letters, digits, - and _ (at most 32)")
    return value.upper()


def site_names(row: dict) -> dict:
    """The optional name_en, name_bn, name_hi cells (None when empty; a file without the column
    leaves the stored name alone). An English name must be GSM-7, or every English message
    naming the site would cost twice as much."""
    names = {k: row[k] or None for k in ("name_en", "name_bn", "name_hi") if k in row}
    english = names.get("name_en")
    if english and encoding_of(english) != GSM7:
        bad = next(ch for ch in english if encoding_of(ch) != GSM7)
        raise RowError(f"name_en {english!r} has {bad!r}, which SMS cannot carry in plain text; "
                       "use Latin letters, digits and plain punctuation")
    return names


def report_via(row: dict) -> dict:
    """The optional report_via cell: the routes a staff member may report through (None when empty:
    any route). A file without the column leaves a stored binding alone, so an older file imported
    again does not unbind anyone."""
    if "report_via" not in row:
        return {}
    try:
        return {"report_via": bindings.parse(row["report_via"])}
    except bindings.BadBinding as exc:
        raise RowError(str(exc)) from exc


def dose_number(value: str) -> int:
    if not (value.isdecimal() and len(value) <= 2) or not 1 <= int(value) <= 3:  # isdigit() takes "²", int() not
        raise RowError(f"dose {value!r} must be 1, 2 or 3")
    return int(value)


def booking_date(value: str, today: date) -> date:
    """An appointment's date: YYYY-MM-DD, or relative to the import day (`today`, `tomorrow`,
    `today+N` for N up to 365), so a sample file always books a live day."""
    match = RELATIVE_DAY.match(value.replace(" ", "").lower())
    if match is None:
        try:
            return date.fromisoformat(value)
        except ValueError as exc:
            raise RowError(f"date {value!r} must be YYYY-MM-DD, today, tomorrow or today+N "
                           f"(N days ahead, at most {MAX_DAYS_AHEAD})") from exc
    days = 1 if match["word"] else int(match["days"] or 0)
    if days > MAX_DAYS_AHEAD:
        raise RowError(f"date {value!r}: today+N books at most {MAX_DAYS_AHEAD} days ahead")
    return today + timedelta(days=days)


def yes_no(value: str, name: str) -> bool:
    answer = YES_NO.get(value.strip().lower())
    if answer is None:
        raise RowError(f"{name} {value!r} must be yes or no")
    return answer


def slot(value: str) -> str:
    match = SLOT.match(value.replace(" ", ""))
    if not match or match.group(1, 2) >= match.group(3, 4):
        raise RowError(f"slot {value!r} must look like 09:00-11:00, start before end")
    return value.replace(" ", "")


def aware_datetime(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise RowError(f"administered_at {value!r} must be ISO 8601, e.g. 2021-01-16T10:30:00+05:30") from exc
    if parsed.tzinfo is None:
        raise RowError(f"administered_at {value!r} needs a UTC offset, e.g. +05:30")
    return parsed
