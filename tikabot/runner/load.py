"""Load the facts a flow step needs, and only those (each query is a cost on every DOSE)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tikabot.clock import as_utc, day_bounds, local_date
from tikabot.flows.facts import (
    AppointmentFact, BeneficiaryFact, DoseFact, LastDoseFact, SenderFacts, SessionFact, StaffFacts,
)
from tikabot.store.models import Appointment, Beneficiary, Dose, Site, Staff, VaccinationSession

LIVE_APPOINTMENTS = ("booked", "confirmed")
NEEDS = {  # command -> facts it reads beyond the sender's own
    "DOSE": {"beneficiary", "session", "tally"},
    None: {"beneficiary", "session", "tally"},  # an answer in a guided DOSE
    "START": {"session", "due"},
    "COUNT": {"tally", "due"},
    "END": {"session", "tally"},
    "UNDO": {"last_dose"},
    "VERIFY": {"beneficiary"},
    "OTP": {"beneficiary"},
    "AEFI": {"beneficiary"},
    "USSD": {"beneficiary", "session", "tally", "due", "last_dose"},  # a USSD staff menu may show any of them
}


def active_staff(session: Session, phone: str) -> Staff | None:
    return session.scalar(select(Staff).where(Staff.phone == phone, Staff.active.is_(True)))


def _site_name(session: Session, site_id: int | None) -> str:
    return session.get(Site, site_id).name if site_id else ""


def _next_appointment(session: Session, beneficiary_id: int, today) -> AppointmentFact | None:
    row = session.execute(
        select(Appointment, Site.name).join(Site, Site.id == Appointment.site_id)
        .where(Appointment.beneficiary_id == beneficiary_id, Appointment.date >= today,
               Appointment.status.in_(LIVE_APPOINTMENTS))
        .order_by(Appointment.date, Appointment.dose_number).limit(1)).first()
    if row is None:
        return None
    appt, site_name = row
    return AppointmentFact(appt.id, appt.dose_number, appt.date, appt.slot, site_name, appt.status)


def beneficiary_fact(session: Session, ben: Beneficiary, tz: str, today, with_appointment: bool = False):
    doses = tuple(
        DoseFact(d.id, d.dose_number, d.vaccine, d.lot, d.administered_at, local_date(d.administered_at, tz),
                 d.voided)
        for d in session.scalars(select(Dose).where(Dose.beneficiary_id == ben.id).order_by(Dose.dose_number)))
    return BeneficiaryFact(
        id=ben.id, ref=ben.ref, name=ben.name, phone=ben.phone, language=ben.language, site_id=ben.site_id,
        site_name=_site_name(session, ben.site_id), opted_out=ben.opted_out, doses=doses,
        next_appointment=_next_appointment(session, ben.id, today) if with_appointment else None)


def _tally(session: Session, site_id: int, today, tz: str) -> dict:
    start, end = day_bounds(today, tz)
    rows = session.execute(
        select(Dose.dose_number, func.count()).where(
            Dose.site_id == site_id, Dose.voided.is_(False), Dose.administered_at >= start,
            Dose.administered_at < end).group_by(Dose.dose_number))
    return {number: count for number, count in rows}


def _due(session: Session, site_id: int, today) -> int:
    return session.scalar(select(func.count()).select_from(Appointment).where(
        Appointment.site_id == site_id, Appointment.date == today,
        Appointment.status.in_(LIVE_APPOINTMENTS + ("done",)))) or 0


def _last_dose(session: Session, phone: str) -> LastDoseFact | None:
    row = session.execute(
        select(Dose, Beneficiary.ref).join(Beneficiary, Beneficiary.id == Dose.beneficiary_id)
        .where(Dose.vaccinator_phone == phone, Dose.voided.is_(False))
        .order_by(Dose.created_at.desc(), Dose.id.desc()).limit(1)).first()
    if row is None:
        return None
    dose, ref = row
    return LastDoseFact(dose.id, ref, dose.dose_number, as_utc(dose.created_at))


def staff_facts(session: Session, staff: Staff, *, keyword: str | None, ref: str | None, now: datetime,
                tz: str) -> StaffFacts:
    today = local_date(now, tz)
    needs = NEEDS.get(keyword, set())
    site_id = staff.site_id
    facts: dict = {}
    if "session" in needs and site_id:
        row = session.scalar(select(VaccinationSession).where(
            VaccinationSession.site_id == site_id, VaccinationSession.date == today))
        if row is not None:
            facts["session"] = SessionFact(row.id, row.vaccine, row.lot, row.closed_at is None)
    if "tally" in needs and site_id:
        facts["doses_today"] = _tally(session, site_id, today, tz)
    if "due" in needs and site_id:
        facts["due_today"] = _due(session, site_id, today)
    if "last_dose" in needs:
        facts["last_dose"] = _last_dose(session, staff.phone)
    if "beneficiary" in needs and ref:
        ben = session.scalar(select(Beneficiary).where(Beneficiary.ref == ref))
        if ben is not None:
            facts["beneficiary"] = beneficiary_fact(session, ben, tz, today)
    return StaffFacts(staff_id=staff.id, phone=staff.phone, language=staff.language, site_id=site_id,
                      site_name=_site_name(session, site_id), today=today, **facts)


def guess_language(text: str) -> str:
    """The language of a stranger's text from its script: Bengali, Devanagari (Hindi), else English."""
    for ch in text:
        if "\u0980" <= ch <= "\u09ff":
            return "bn"
        if "\u0900" <= ch <= "\u097f":
            return "hi"
    return "en"


def sender_facts(session: Session, phone: str, text: str, *, now: datetime, tz: str) -> SenderFacts:
    """A beneficiary's phone (the one with the soonest appointment when a family shares it) or a stranger."""
    today = local_date(now, tz)
    people = list(session.scalars(select(Beneficiary).where(Beneficiary.phone == phone).order_by(Beneficiary.id)))
    if not people:
        return SenderFacts(phone=phone, language=guess_language(text), today=today)
    found = [beneficiary_fact(session, b, tz, today, with_appointment=True) for b in people]
    with_appt = sorted((f for f in found if f.next_appointment), key=lambda f: f.next_appointment.date)
    chosen = with_appt[0] if with_appt else found[0]
    return SenderFacts(phone=phone, language=chosen.language, today=today, beneficiary=chosen)
