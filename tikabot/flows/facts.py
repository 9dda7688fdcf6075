"""What a flow may know about the world: read-only snapshots the runner loads before a step.

A flow never queries anything; the runner loads these (from a database, or a test writes them by
hand) and the flow decides from them alone.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from tikabot.flows.names import first_name

from tikabot.i18n.places import PlaceName


@dataclass(frozen=True)
class DoseFact:
    id: int
    dose_number: int
    vaccine: str
    lot: str
    administered_at: datetime
    day: date  # local date of administration (TIKABOT_TZ)
    voided: bool = False
    created_at: datetime | None = None  # when it was recorded (the UNDO window runs from here)
    site_id: int | None = None
    recorded_by: str = ""  # the vaccinator's phone
    needs_reconciliation: bool = False  # recorded with an earlier dose given elsewhere, not on record


@dataclass(frozen=True)
class AppointmentFact:
    id: int
    dose_number: int
    date: date
    slot: str
    site_name: str | PlaceName  # PlaceName: the name in each reader's language
    status: str


@dataclass(frozen=True)
class BeneficiaryFact:
    id: int
    ref: str
    name: str
    phone: str
    language: str
    site_id: int | None
    site_name: str | PlaceName  # PlaceName: the name in each reader's language
    opted_out: bool = False
    doses: tuple[DoseFact, ...] = ()  # voided ones included
    next_appointment: AppointmentFact | None = None

    @property
    def first_name(self) -> str:
        return first_name(self.name)

    def live_dose(self, number: int) -> DoseFact | None:
        return next((d for d in self.doses if d.dose_number == number and not d.voided), None)

    def on_record(self) -> tuple[int, ...]:
        """The dose numbers with a live record."""
        return tuple(sorted({d.dose_number for d in self.doses if not d.voided}))

    def latest_live_dose(self) -> DoseFact | None:
        live = [d for d in self.doses if not d.voided]
        return max(live, key=lambda d: d.dose_number) if live else None


@dataclass(frozen=True)
class SessionFact:
    id: int
    vaccine: str
    lot: str
    open: bool


@dataclass(frozen=True)
class LastDoseFact:
    """The sender's most recent live dose (for UNDO)."""
    id: int
    ref: str
    dose_number: int
    created_at: datetime


@dataclass(frozen=True)
class LastVoidFact:
    """The dose the sender voided last (a second bare UNDO names it and asks for a REF)."""
    ref: str
    dose_number: int
    voided_at: datetime


@dataclass(frozen=True)
class StaffFacts:
    staff_id: int
    phone: str
    language: str
    site_id: int | None
    site_name: str | PlaceName  # PlaceName: the name in each reader's language
    today: date
    session: SessionFact | None = None
    doses_today: dict = field(default_factory=dict)  # dose number -> live doses at the site today
    due_today: int = 0
    last_dose: LastDoseFact | None = None
    last_void: LastVoidFact | None = None
    role: str = "vaccinator"  # vaccinator | verifier | coordinator
    beneficiary: BeneficiaryFact | None = None  # the REF in the message or the conversation
    report_via: str | None = None  # the routes this member may report through (the runner checks); None: any

    @property
    def total_today(self) -> int:
        return sum(self.doses_today.values())


@dataclass(frozen=True)
class SenderFacts:
    """Anyone who is not registered staff: a beneficiary's phone or a stranger."""
    phone: str
    language: str
    today: date
    beneficiary: BeneficiaryFact | None = None
