"""What a flow step returns besides its new state: replies to render and effects to apply.

Both are plain frozen dataclasses, so a flow stays a pure function and a test can compare them.
A Reply is a catalog key plus params; a param that is itself a Reply is rendered first in the
same language (e.g. the word for a severity inside the AEFI reply).
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Reply:
    key: str
    params: dict = field(default_factory=dict)
    lang: str | None = None  # None: the sender's language after the step


@dataclass(frozen=True)
class Recipient:
    """Who a message goes to, as the flow knew them."""
    first_name: str
    phone: str
    language: str


@dataclass(frozen=True)
class RecordDose:
    beneficiary_id: int
    ref: str
    dose_number: int
    vaccine: str
    lot: str
    site_id: int
    confirm_to: Recipient | None = None  # the beneficiary as the flow read them; None: look them up
    needs_reconciliation: bool = False  # an earlier dose was given elsewhere and is not on record
    missing: tuple[int, ...] = ()  # those earlier dose numbers
    on_record: tuple[int, ...] = ()  # the other live doses as the flow read them (the confirmation's course)


@dataclass(frozen=True)
class VoidDose:
    dose_id: int  # the beneficiary is sent a short correction if the confirmation already went


@dataclass(frozen=True)
class OpenSession:
    site_id: int
    vaccine: str
    lot: str


@dataclass(frozen=True)
class CloseSession:
    session_id: int
    site_name: str
    dose1: int
    dose2: int
    total: int


@dataclass(frozen=True)
class IssueOtp:
    beneficiary_id: int
    ref: str


@dataclass(frozen=True)
class CheckOtp:
    beneficiary_id: int
    ref: str
    name: str
    code: str


@dataclass(frozen=True)
class RecordAefi:
    beneficiary_id: int
    ref: str
    severity: str  # MINOR | SEVERE
    note: str
    site_id: int | None
    site_name: str


@dataclass(frozen=True)
class SetLanguage:
    who: str  # "staff" | "beneficiary"
    record_id: int
    lang: str  # en | bn | hi


@dataclass(frozen=True)
class SetOptOut:
    beneficiary_id: int
    opted_out: bool


@dataclass(frozen=True)
class SetAppointmentStatus:
    appointment_id: int
    status: str  # confirmed | cancelled


Effect = (RecordDose | VoidDose | OpenSession | CloseSession | IssueOtp | CheckOtp | RecordAefi
          | SetLanguage | SetOptOut | SetAppointmentStatus)
