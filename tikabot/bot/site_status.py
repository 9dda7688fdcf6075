"""A site's day as the coordinator view shows it: what /status lists, what need.py ranks."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from tikabot.i18n.places import PlaceName
from tikabot.store.models import Staff, VaccinationSession


@dataclass
class SiteStatus:
    code: str
    name: str | PlaceName  # a PlaceName from site_statuses: shown in the reader's language
    manual_mode: bool
    session: VaccinationSession | None
    doses: dict[int, int] = field(default_factory=dict)  # dose number -> count today
    due: int = 0
    remaining: int = 0
    failed_sends: int = 0
    expected: float = 0.0  # doses the booked slots would have given by the moment asked (tikabot.bot.plan)
    opens_at: datetime | None = None  # when the earliest booked slot begins
    last_report: datetime | None = None  # the latest dose or staff message (last_report)
    in_charge: Staff | None = None  # whom to call (in_charge)

    @property
    def done(self) -> int:
        return sum(self.doses.values())

    @property
    def session_state(self) -> str:
        if self.session is None:
            return "no session"
        return "closed" if self.session.closed_at else "open"
