"""`tikabot remind --dry-run [--date]`: a day's appointment messages, by site, changing nothing.

For each message: local send time, kind, the recipient masked, language, segments, and whether
it is already in the outbox (its status) or would be written by the planner (`planned`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from itertools import groupby

from sqlalchemy.orm import Session

from tikabot.core.clock import as_utc, day_bounds
from tikabot.i18n.catalog import render
from tikabot.i18n.encoding import sms_info
from tikabot.core.phones import mask
from tikabot.reminders import schedule as s
from tikabot.reminders.candidates import gather
from tikabot.reminders.cancel import CANCELLED
from tikabot.reminders.planner import stored_by_key
from tikabot.reminders.policy import Policy


@dataclass(frozen=True)
class Line:
    site: str
    at: datetime
    template: str
    recipient: str  # masked
    language: str
    segments: int
    status: str


def day_plan(session: Session, day: date, now: datetime, config) -> list[Line]:
    policy = Policy.from_config(config)
    start, end = day_bounds(day, policy.tz)
    seen_from = max(as_utc(now), start)
    candidates = gather(session, seen_from, policy)
    stored = stored_by_key(session, [c.key for c in candidates])
    lines = []
    for c in candidates:
        row = stored.get(c.key)
        if row is not None and row.status != CANCELLED:
            at, status, segments = row.not_before or row.sent_at or row.created_at, row.status, row.segments
        else:
            timing = c.timing(seen_from, policy)
            if timing.send_at >= timing.expires_at or c.kind is s.BOOKED:
                continue  # too late, or a booking notice: only the import that made its code sends one
            at, status = timing.send_at, "planned"
            segments = sms_info(render(c.kind.template, c.language, **c.params)).segments
        if start <= at < end:
            lines.append(Line(f"{c.site_code} {c.site_name}", at, c.kind.template, mask(c.recipient),
                              c.language, segments, status))
    return sorted(lines, key=lambda x: (x.site, x.at, x.template, x.recipient))


def report(lines: list[Line], day: date, tz: str) -> str:
    if not lines:
        return f"No appointment messages for {day.isoformat()} ({tz})."
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(tz)
    out = [f"Appointment messages for {day.isoformat()} ({tz})"]
    for site, group in groupby(lines, key=lambda x: x.site):
        group = list(group)
        out.append(f"{site}: {_totals(group)}")
        out += [f"  {x.at.astimezone(zone):%H:%M}  {x.template:<24} {x.recipient:<14} {x.language}  "
                f"{x.segments} seg  {x.status}" for x in group]
    out.append(f"total: {_totals(lines)}")
    return "\n".join(out)


def _totals(lines: list[Line]) -> str:
    n, segs = len(lines), sum(x.segments for x in lines)
    return f"{n} message{'s' * (n != 1)}, {segs} segment{'s' * (segs != 1)}"
