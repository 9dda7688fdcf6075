"""When bulk messages may go: the local time zone, quiet hours and how far ahead to plan.

Quiet hours come from `config.extra["quiet_hours"]` or the TIKABOT_QUIET_HOURS variable, as
`21:00-08:00` (the default) or `off`. A window may wrap past midnight.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tikabot.core.clock import as_utc, local_at

DEFAULT_QUIET_HOURS = "21:00-08:00"
_WINDOW = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


def parse_quiet_hours(text: str) -> tuple[time, time] | None:
    """'21:00-08:00' -> (21:00, 08:00); 'off' -> None. ValueError says what is wrong."""
    value = (text or "").strip().replace(" ", "")
    if value.lower() in ("off", "none", "no"):
        return None
    match = _WINDOW.match(value)
    if not match:
        raise ValueError(f"quiet hours {text!r} must look like 21:00-08:00 (or off)")
    start, end = time(int(match[1]), int(match[2])), time(int(match[3]), int(match[4]))
    if start == end:
        raise ValueError(f"quiet hours {text!r} start and end at the same time; use off")
    return start, end


@dataclass(frozen=True)
class Policy:
    tz: str = "Asia/Kolkata"
    quiet: tuple[time, time] | None = (time(21), time(8))
    horizon: timedelta = timedelta(hours=24)  # reminders are written to the outbox this far ahead

    @classmethod
    def from_config(cls, config) -> "Policy":
        text = config.extra.get("quiet_hours") or os.environ.get("TIKABOT_QUIET_HOURS") or DEFAULT_QUIET_HOURS
        return cls(tz=config.tz, quiet=parse_quiet_hours(text))

    def local_date(self, moment: datetime) -> date:
        return as_utc(moment).astimezone(ZoneInfo(self.tz)).date()

    def at(self, day: date, wall: time) -> datetime:
        return local_at(day, wall, self.tz)

    def is_quiet(self, moment: datetime) -> bool:
        if self.quiet is None:
            return False
        start, end = self.quiet
        wall = as_utc(moment).astimezone(ZoneInfo(self.tz)).time()
        return start <= wall < end if start < end else (wall >= start or wall < end)

    def out_of_quiet(self, moment: datetime) -> datetime:
        """moment, or the end of the quiet hours it falls in (as a UTC instant)."""
        if not self.is_quiet(moment):
            return as_utc(moment)
        start, end = self.quiet
        local = as_utc(moment).astimezone(ZoneInfo(self.tz))
        day = local.date() + timedelta(days=1) if start > end and local.time() >= start else local.date()
        return self.at(day, end)
