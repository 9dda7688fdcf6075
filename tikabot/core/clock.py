"""Time: stored in UTC, shown and scheduled in local time (TIKABOT_TZ, Asia/Kolkata by default)."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo


def now() -> datetime:
    return datetime.now(timezone.utc)


def local_date(moment: datetime, tz: str) -> date:
    return as_utc(moment).astimezone(ZoneInfo(tz)).date()


def day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    """The UTC instants where a local calendar day starts and ends."""
    zone = ZoneInfo(tz)
    start = datetime.combine(day, time.min, tzinfo=zone)
    return start.astimezone(timezone.utc), (start + timedelta(days=1)).astimezone(timezone.utc)


def local_at(day: date, at: time, tz: str) -> datetime:
    """A local wall-clock time on a day, as a UTC instant."""
    return datetime.combine(day, at, tzinfo=ZoneInfo(tz)).astimezone(timezone.utc)


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def short_date(day: date) -> str:
    """'10 Mar', whatever the machine's locale. Messages show dates through the catalogs instead, in
    the reader's language (tikabot.i18n.dates)."""
    return f"{day.day} {MONTHS[day.month - 1]}"
