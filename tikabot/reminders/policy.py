"""When bulk messages may go: the local time zone, quiet hours and how far ahead to plan.

Quiet hours come from `config.extra["quiet_hours"]` or the TIKABOT_QUIET_HOURS variable, as
`21:00-08:00` (the default) or `off`. A window may wrap past midnight.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tikabot.core.clock import as_utc, local_at
from tikabot.core.quiet_hours import parse_quiet_hours, quiet_hours_text

@dataclass(frozen=True)
class Policy:
    tz: str = "Asia/Kolkata"
    quiet: tuple[time, time] | None = (time(21), time(8))
    horizon: timedelta = timedelta(hours=24)  # reminders are written to the outbox this far ahead

    @classmethod
    def from_config(cls, config) -> "Policy":
        return cls(tz=config.tz, quiet=parse_quiet_hours(quiet_hours_text(config.extra)))

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
