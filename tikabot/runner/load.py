"""Load the facts a flow step needs, and only those (each query is a cost on every DOSE).

Plain Core selects, joined so that a DOSE costs three reads: the sender with their site and the
site's session today, the site's tally today, and the beneficiary with their doses. No ORM
objects are built, so nothing here can go stale inside the caller's transaction.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from tikabot.core.clock import as_utc, day_bounds, local_date
from tikabot.flows.facts import (
    AppointmentFact, BeneficiaryFact, DoseFact, LastDoseFact, LastVoidFact, SenderFacts, SessionFact, StaffFacts,
)
from tikabot.i18n.places import PlaceName
from tikabot.store.appointments import ACTIVE, DONE
from tikabot.store.models import Appointment, Beneficiary, Dose, Site, Staff, VaccinationSession

NEEDS = {  # command -> facts it reads beyond the sender's own
    "DOSE": {"beneficiary", "session", "tally"},
    None: {"beneficiary", "session", "tally"},  # an answer in a guided DOSE
    "START": {"session", "due"},
    "COUNT": {"tally", "due"},
    "END": {"session", "tally"},
    "STOP": {"session", "tally"},  # বন্ধ / बंद from staff is END (flows.keywords.staff_keyword)
    "UNDO": {"last_dose", "beneficiary"},
    "VERIFY": {"beneficiary"},
    "OTP": {"beneficiary"},
    "AEFI": {"beneficiary"},
    "USSD": {"beneficiary", "session", "tally", "due", "last_dose"},  # a USSD staff menu may show any of them
}


@dataclass(frozen=True)
class StaffRow:
    """A registered, active staff member as the runner needs them."""
    id: int
    phone: str
    language: str
    site_id: int | None
    site_name: PlaceName
    role: str = "vaccinator"
    report_via: str | None = None  # the routes their SMS may come through (flows/report_via.py); None: any


SITE_NAMES = (Site.name, Site.name_en, Site.name_bn, Site.name_hi)  # four columns -> one PlaceName


def _place(names) -> PlaceName:
    return PlaceName(names[0] or "", names[1] or None, names[2] or None, names[3] or None)


STAFF_COLUMNS = (Staff.id, Staff.phone, Staff.language, Staff.site_id, *SITE_NAMES, Staff.role, Staff.report_via)
_AFTER_STAFF = len(STAFF_COLUMNS)  # where the session's columns start in a row of _STAFF_WITH_SESSION


def _staff_row(row) -> StaffRow:
    return StaffRow(row[0], row[1], row[2], row[3], _place(row[4:8]), row[8], row[9])


# Statements are built once; only their parameters change from message to message.
_STAFF = (select(*STAFF_COLUMNS)
          .outerjoin(Site, Site.id == Staff.site_id)
          .where(Staff.phone == bindparam("phone"), Staff.active.is_(True)))
_STAFF_WITH_SESSION = (
    select(*STAFF_COLUMNS, VaccinationSession.id, VaccinationSession.vaccine, VaccinationSession.lot,
           VaccinationSession.closed_at)
    .outerjoin(Site, Site.id == Staff.site_id)
    .outerjoin(VaccinationSession, and_(VaccinationSession.site_id == Staff.site_id,
                                        VaccinationSession.date == bindparam("today")))
    .where(Staff.phone == bindparam("phone"), Staff.active.is_(True)))
_SESSION = select(VaccinationSession.id, VaccinationSession.vaccine, VaccinationSession.lot,
                  VaccinationSession.closed_at).where(VaccinationSession.site_id == bindparam("site_id"),
                                                      VaccinationSession.date == bindparam("today"))
_TALLY = (select(Dose.dose_number, func.count())
          .where(Dose.site_id == bindparam("site_id"), Dose.voided.is_(False),
                 Dose.administered_at >= bindparam("start"), Dose.administered_at < bindparam("end"))
          .group_by(Dose.dose_number))
_DUE = (select(func.count()).select_from(Appointment)
        .where(Appointment.site_id == bindparam("site_id"), Appointment.date == bindparam("today"),
               Appointment.status.in_(ACTIVE + (DONE,))))
_LAST_DOSE = (select(Dose.id, Beneficiary.ref, Dose.dose_number, Dose.created_at)
              .join(Beneficiary, Beneficiary.id == Dose.beneficiary_id)
              .where(Dose.vaccinator_phone == bindparam("phone"), Dose.voided.is_(False))
              .order_by(Dose.created_at.desc(), Dose.id.desc()).limit(1))
_LAST_VOID = (select(Beneficiary.ref, Dose.dose_number, Dose.voided_at)
              .join(Beneficiary, Beneficiary.id == Dose.beneficiary_id)
              .where(Dose.voided_by == bindparam("phone"), Dose.voided.is_(True))
              .order_by(Dose.voided_at.desc(), Dose.id.desc()).limit(1))
_BEN_COLUMNS = (Beneficiary.id, Beneficiary.ref, Beneficiary.name, Beneficiary.phone, Beneficiary.language,
                Beneficiary.site_id, Site.name, Beneficiary.opted_out, Dose.id, Dose.dose_number, Dose.vaccine,
                Dose.lot, Dose.administered_at, Dose.voided, Dose.created_at, Dose.site_id, Dose.vaccinator_phone,
                Dose.needs_reconciliation, Site.name_en, Site.name_bn, Site.name_hi)
_BEN_WITH_DOSES = (select(*_BEN_COLUMNS).outerjoin(Site, Site.id == Beneficiary.site_id)
                   .outerjoin(Dose, Dose.beneficiary_id == Beneficiary.id))
_BEN_BY_REF = _BEN_WITH_DOSES.where(Beneficiary.ref == bindparam("ref")).order_by(Dose.dose_number)
_BEN_BY_PHONE = (_BEN_WITH_DOSES.where(Beneficiary.phone == bindparam("phone"))
                 .order_by(Beneficiary.id, Dose.dose_number))
# A round's senders and beneficiaries, each kind in one statement (see RoundFacts).
_STAFF_MANY = (
    select(*STAFF_COLUMNS, VaccinationSession.id, VaccinationSession.vaccine, VaccinationSession.lot,
           VaccinationSession.closed_at)
    .outerjoin(Site, Site.id == Staff.site_id)
    .outerjoin(VaccinationSession, and_(VaccinationSession.site_id == Staff.site_id,
                                        VaccinationSession.date == bindparam("today")))
    .where(Staff.phone.in_(bindparam("phones", expanding=True)), Staff.active.is_(True)))
_BEN_BY_REFS = (_BEN_WITH_DOSES.where(Beneficiary.ref.in_(bindparam("refs", expanding=True)))
                .order_by(Beneficiary.id, Dose.dose_number))
_NEXT_APPOINTMENT = (
    select(Appointment.id, Appointment.dose_number, Appointment.date, Appointment.slot, Appointment.status,
           *SITE_NAMES).join(Site, Site.id == Appointment.site_id)
    .where(Appointment.beneficiary_id == bindparam("beneficiary_id"), Appointment.date >= bindparam("today"),
           Appointment.status.in_(ACTIVE))
    .order_by(Appointment.date, Appointment.dose_number).limit(1))


@dataclass(frozen=True)
class RoundFacts:
    """What a round's messages need most, read for the whole round at once: each sender as active
    staff with their site's session today (None: not active staff), and the beneficiaries the
    round's reports name (rows of _BEN_WITH_DOSES by ref; a ref not there is no beneficiary).
    A phone or ref not asked about is read on its own, as without a RoundFacts."""
    today: date
    staff: dict
    beneficiaries: dict


def round_facts(conn: Connection, phones, refs, *, now: datetime, tz: str) -> RoundFacts:
    today = local_date(now, tz)
    phones, refs = sorted(set(phones)), sorted(set(refs))
    staff: dict = dict.fromkeys(phones)
    if phones:
        for row in conn.execute(_STAFF_MANY, {"phones": phones, "today": today}):
            staff[row[1]] = row
    beneficiaries: dict = {ref: [] for ref in refs}
    if refs:
        for row in conn.execute(_BEN_BY_REFS, {"refs": refs}):
            beneficiaries[row[1]].append(row)
    return RoundFacts(today, staff, beneficiaries)


def connection(session: Session | Connection) -> Connection:
    """The session's connection for a Core statement, after writing any pending ORM changes (what the
    ORM's autoflush would do) so the statement sees them. A Connection is used as it is."""
    if isinstance(session, Connection):
        return session
    if session.new or session.dirty or session.deleted:
        session.flush()
    return session.connection()


def _run(session: Session, statement, **params):
    return connection(session).execute(statement, params)


def active_staff(session: Session, phone: str) -> StaffRow | None:
    row = _run(session, _STAFF, phone=phone).first()
    return _staff_row(row) if row else None


def _next_appointment(session: Session, beneficiary_id: int, today) -> AppointmentFact | None:
    row = _run(session, _NEXT_APPOINTMENT, beneficiary_id=beneficiary_id, today=today).first()
    return AppointmentFact(row[0], row[1], row[2], row[3], _place(row[5:9]), row[4]) if row else None


def _beneficiaries(session: Session, rows, tz: str, today, with_appointment: bool) -> list[BeneficiaryFact]:
    """BeneficiaryFacts from rows of _BEN_WITH_DOSES (one row per dose, or one with no dose)."""
    found: dict[int, tuple] = {}
    doses: dict[int, list[DoseFact]] = {}
    for row in rows:
        ben_id = row[0]
        if ben_id not in found:
            found[ben_id], doses[ben_id] = (*row[:6], _place((row[6], *row[18:21])), row[7]), []
        if row[8] is not None:
            doses[ben_id].append(DoseFact(row[8], row[9], row[10], row[11], row[12],
                                          local_date(row[12], tz), bool(row[13]), as_utc(row[14]), row[15],
                                          row[16] or "", bool(row[17])))
    return [BeneficiaryFact(id=b[0], ref=b[1], name=b[2], phone=b[3], language=b[4], site_id=b[5],
                            site_name=b[6], opted_out=bool(b[7]), doses=tuple(doses[ben_id]),
                            next_appointment=_next_appointment(session, ben_id, today) if with_appointment else None)
            for ben_id, b in found.items()]


def beneficiary_by_ref(session: Session, ref: str, tz: str, today,
                       known: RoundFacts | None = None) -> BeneficiaryFact | None:
    if known is not None and known.today == today and ref in known.beneficiaries:
        rows = known.beneficiaries[ref]
    else:
        rows = _run(session, _BEN_BY_REF, ref=ref)
    found = _beneficiaries(session, rows, tz, today, with_appointment=False)
    return found[0] if found else None


def _tally(session: Session, site_id: int, today, tz: str) -> dict:
    start, end = day_bounds(today, tz)
    return {number: count for number, count in _run(session, _TALLY, site_id=site_id, start=start, end=end)}


def _due(session: Session, site_id: int, today) -> int:
    return _run(session, _DUE, site_id=site_id, today=today).scalar() or 0


def _last_dose(session: Session, phone: str) -> LastDoseFact | None:
    row = _run(session, _LAST_DOSE, phone=phone).first()
    return LastDoseFact(row[0], row[1], row[2], as_utc(row[3])) if row else None


def _last_void(session: Session, phone: str) -> LastVoidFact | None:
    row = _run(session, _LAST_VOID, phone=phone).first()
    return LastVoidFact(row[0], row[1], as_utc(row[2])) if row and row[2] is not None else None


def _session_fact(row) -> SessionFact | None:
    return SessionFact(row[0], row[1], row[2], row[3] is None) if row and row[0] is not None else None


def staff_facts(session: Session, staff: StaffRow, *, keyword: str | None, ref: str | None, now: datetime,
                tz: str) -> StaffFacts:
    """Facts for a staff member already identified (active_staff)."""
    today = local_date(now, tz)
    needs = NEEDS.get(keyword, set())
    session_row = None
    if "session" in needs and staff.site_id:
        session_row = _run(session, _SESSION, site_id=staff.site_id, today=today).first()
    return _staff_facts(session, staff, needs, session_row, ref, today, tz)


def identify_staff(session: Session, phone: str, *, keyword: str | None, ref: str | None, now: datetime,
                   tz: str, tally: bool = True, known: RoundFacts | None = None) -> StaffFacts | None:
    """The sender as active staff with the facts `keyword` needs (one query for the sender, their site
    and its session today, unless `known` has them), or None when the phone is not active staff.
    tally=False leaves the site's running count out, for `with_tally` to read later under the write lock."""
    today = local_date(now, tz)
    needs = NEEDS.get(keyword, set()) - (set() if tally else {"tally"})
    if known is not None and known.today == today and phone in known.staff:
        row = known.staff[phone]
        if row is None:
            return None
        staff = _staff_row(row)
        session_row = row[_AFTER_STAFF:] if "session" in needs and staff.site_id else None
        return _staff_facts(session, staff, needs, session_row, ref, today, tz, known)
    if "session" not in needs:
        staff = active_staff(session, phone)
        return _staff_facts(session, staff, needs, None, ref, today, tz) if staff else None
    row = _run(session, _STAFF_WITH_SESSION, phone=phone, today=today).first()
    if row is None:
        return None
    staff = _staff_row(row)
    return _staff_facts(session, staff, needs, row[_AFTER_STAFF:] if staff.site_id else None, ref, today, tz)


def _staff_facts(session: Session, staff: StaffRow, needs: set, session_row, ref: str | None, today,
                 tz: str, known: RoundFacts | None = None) -> StaffFacts:
    site_id = staff.site_id
    facts: dict = {}
    if session_row is not None:
        found = _session_fact(session_row)
        if found is not None:
            facts["session"] = found
    if "tally" in needs and site_id:
        facts["doses_today"] = _tally(session, site_id, today, tz)
    if "due" in needs and site_id:
        facts["due_today"] = _due(session, site_id, today)
    if "last_dose" in needs:
        facts["last_dose"] = _last_dose(session, staff.phone)
        facts["last_void"] = _last_void(session, staff.phone)
    if "beneficiary" in needs and ref:
        ben = beneficiary_by_ref(session, ref, tz, today, known)
        if ben is not None:
            facts["beneficiary"] = ben
    return StaffFacts(staff_id=staff.id, phone=staff.phone, language=staff.language, site_id=site_id,
                      site_name=staff.site_name if site_id else "", today=today, role=staff.role,
                      report_via=staff.report_via, **facts)


def needs_tally(keyword: str | None) -> bool:
    return "tally" in NEEDS.get(keyword, set())


def with_tally(session: Session, facts: StaffFacts, tz: str) -> StaffFacts:
    """The facts with the site's doses today counted now."""
    if not facts.site_id:
        return facts
    return replace(facts, doses_today=_tally(session, facts.site_id, facts.today, tz))


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
    found = _beneficiaries(session, _run(session, _BEN_BY_PHONE, phone=phone), tz, today, with_appointment=True)
    if not found:
        return SenderFacts(phone=phone, language=guess_language(text), today=today)
    with_appt = sorted((f for f in found if f.next_appointment), key=lambda f: f.next_appointment.date)
    chosen = with_appt[0] if with_appt else found[0]
    return SenderFacts(phone=phone, language=chosen.language, today=today, beneficiary=chosen)
