"""Quiet hours, as a setting: `21:00-08:00` (the default) or `off`; a window may wrap past midnight.

Read here, below the config, so that a bad TIKABOT_QUIET_HOURS is said when the config is read
(tikabot/config.py), and the reminder policy (tikabot/reminders/policy.py) applies the same value.
"""
from __future__ import annotations

import os
import re
from datetime import time

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


def quiet_hours_text(extra: dict) -> str:
    """The configured quiet hours: a config override, else TIKABOT_QUIET_HOURS, else the default."""
    return extra.get("quiet_hours") or os.environ.get("TIKABOT_QUIET_HOURS") or DEFAULT_QUIET_HOURS
