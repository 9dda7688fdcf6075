"""What the record says should be sent: every appointment message and dose-2 reminder still wanted.

Read-only. The planner writes the ones whose time has come; the dry run prints a day of them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from tikabot.flows.names import first_name
from tikabot.flows.vaccines import known, resolve
from tikabot.i18n.dates import Slot
from tikabot.i18n.places import place_name
from tikabot.reminders import schedule as s
from tikabot.reminders.policy import Policy
from tikabot.store.models import Appointment, Beneficiary, Dose


@dataclass(frozen=True)
class Candidate:
    key: str
    kind: s.Kind
    anchor: date
    slot: str | None
    recipient: str
    language: str
    params: dict
    beneficiary_id: int
    appointment_id: int | None
    site_code: str
    site_name: str

    def timing(self, now: datetime, policy: Policy) -> s.Timing:
        return s.timing(self.kind, self.anchor, now, policy, self.slot)


def appointment_candidates(appointment: Appointment, has_dose: bool, code: str | None = None) -> list[Candidate]:
    """code: the security code, known only to the import that made it (for the booking notice)."""
    person, site = appointment.beneficiary, appointment.site
    params = {"name": first_name(person.name), "date": appointment.date,
              "slot": Slot(appointment.slot), "site": place_name(site), "code": code}
    return [Candidate(s.appointment_key(appointment.id, kind, appointment.date), kind, appointment.date,
                      appointment.slot, person.phone, person.language, params, person.id,
                      appointment.id if kind.linked else None, site.code, site.name)
            for kind in s.APPOINTMENT_KINDS
            if s.wanted(kind, appointment.status, has_dose, person.opted_out)]


def due_candidates(dose1: Dose, due: date) -> list[Candidate]:
    person, site = dose1.beneficiary, dose1.site
    params = {"name": first_name(person.name), "date": due, "site": place_name(site)}
    return [Candidate(s.due_key(person.id, kind, due), kind, due, None, person.phone, person.language,
                      params, person.id, None, site.code, site.name) for kind in s.DUE_KINDS]


def gather(session: Session, now: datetime, policy: Policy) -> list[Candidate]:
    """Every wanted message for appointments from yesterday on and dose 2 due from yesterday on."""
    today = policy.local_date(now)
    return _appointments(session, today - timedelta(days=1)) + _dose2_due(session, now, today, policy)


def _given(session: Session, beneficiary_ids: set[int]) -> set[tuple[int, int]]:
    if not beneficiary_ids:
        return set()
    rows = session.execute(select(Dose.beneficiary_id, Dose.dose_number)
                           .where(Dose.voided.is_(False), Dose.beneficiary_id.in_(beneficiary_ids)))
    return {tuple(r) for r in rows}


def _appointments(session: Session, since: date) -> list[Candidate]:
    found = session.scalars(
        select(Appointment).where(Appointment.date >= since,
                                  Appointment.status.in_(s.ACTIVE + ("missed",)))
        .options(joinedload(Appointment.beneficiary), joinedload(Appointment.site))
        .order_by(Appointment.id)).all()
    given = _given(session, {a.beneficiary_id for a in found})
    out: list[Candidate] = []
    for appointment in found:
        out += appointment_candidates(appointment, (appointment.beneficiary_id, appointment.dose_number) in given)
    return out


def _dose2_due(session: Session, now: datetime, today: date, policy: Policy) -> list[Candidate]:
    longest = max((v.min_interval_days for v in known()), default=28)
    firsts = session.scalars(
        select(Dose).join(Beneficiary, Beneficiary.id == Dose.beneficiary_id)
        .where(Dose.dose_number == 1, Dose.voided.is_(False), Beneficiary.opted_out.is_(False),
               Dose.administered_at >= now - timedelta(days=longest + 3))
        .options(joinedload(Dose.beneficiary), joinedload(Dose.site))
        .order_by(Dose.id)).all()
    people = {d.beneficiary_id for d in firsts}
    given = _given(session, people)
    booked = set(session.scalars(select(Appointment.beneficiary_id).where(
        Appointment.dose_number == 2, Appointment.status.in_(s.ACTIVE),
        Appointment.beneficiary_id.in_(people)))) if people else set()
    out: list[Candidate] = []
    for dose in firsts:
        vaccine = resolve(dose.vaccine)
        if vaccine is None or vaccine.doses < 2:
            continue
        if (dose.beneficiary_id, 2) in given or dose.beneficiary_id in booked:
            continue  # done, or a dose-2 appointment brings its own reminders
        due = policy.local_date(dose.administered_at) + timedelta(days=vaccine.min_interval_days)
        if due >= today - timedelta(days=1):
            out += due_candidates(dose, due)
    return out
