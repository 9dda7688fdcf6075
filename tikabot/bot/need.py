"""Which site needs help now: a site's flags and the order /status lists sites in, worst first.

The order, tier by tier: a site with people due that has not started though its first slot has
begun; a site silent for SILENT_FLAG or more during an open session (longest silence first); a site
behind plan (the biggest shortfall in doses first); a site in manual (paper) mode; then the rest by
the share of due done, lowest first; sites with nothing due today last.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tikabot.bot.site_status import SiteStatus
from tikabot.core.clock import as_utc

SILENT_FLAG = timedelta(minutes=30)  # /status says "silent" this early; the alert waits for 60
BEHIND_SHARE = 0.8  # behind plan: fewer than 80 % of the doses the booked slots would have given
BEHIND_MIN_DOSES = 2  # ... and at least this many doses short (one late person is not "behind")


@dataclass(frozen=True)
class Need:
    not_started: bool = False
    silent_minutes: int | None = None
    behind_by: int = 0  # doses short of plan, when behind
    manual: bool = False
    closed: bool = False

    @property
    def flagged(self) -> bool:
        return self.not_started or self.silent_minutes is not None or self.behind_by > 0 or self.manual


def need_of(status: SiteStatus, now: datetime) -> Need:
    now = as_utc(now)
    session = status.session
    closed = session is not None and session.closed_at is not None
    not_started = (session is None and status.due > 0 and not status.manual_mode
                   and status.opens_at is not None and now >= status.opens_at)
    silent = None
    if session is not None and not closed and not status.manual_mode:
        last = max(filter(None, [as_utc(session.opened_at), status.last_report]))
        if now - last >= SILENT_FLAG:
            silent = int((now - last).total_seconds() // 60)
    short = status.expected - status.done
    behind = (session is not None and not closed and not status.manual_mode
              and status.done < BEHIND_SHARE * status.expected and short >= BEHIND_MIN_DOSES)
    return Need(not_started=not_started, silent_minutes=silent, behind_by=round(short) if behind else 0,
                manual=status.manual_mode, closed=closed)


def share(status: SiteStatus) -> float | None:
    return status.done / status.due if status.due else None


def rank_key(status: SiteStatus, need: Need) -> tuple:
    if need.not_started:
        return (0, -status.due, status.code)
    if need.silent_minutes is not None:
        return (1, -need.silent_minutes, status.code)
    if need.behind_by:
        return (2, -need.behind_by, status.code)
    if need.manual:
        return (3, share(status) or 0.0, status.code)
    if status.due == 0:
        return (6, 0.0, status.code)
    if need.closed:
        return (5, share(status) or 0.0, status.code)
    return (4, share(status) or 0.0, status.code)


def ranked(statuses: list[SiteStatus], now: datetime) -> list[tuple[SiteStatus, Need]]:
    """Sites with their need, worst first."""
    pairs = [(s, need_of(s, now)) for s in statuses]
    return sorted(pairs, key=lambda pair: rank_key(*pair))
