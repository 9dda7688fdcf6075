"""The five import kinds (CONTRACT §7). Each turns one CSV row into an insert, an update or nothing.

`apply` returns IMPORTED (a new record), UPDATED (a stored record changed) or UNCHANGED (the row
matched what is stored), so re-importing a file reports `imported 0, updated 0, unchanged N`.

What a person chose over SMS or USSD is theirs, not the registry's: a language set with LANG
(`language_chosen_at`), an opt-out (STOP; no import column touches it), an appointment they
confirmed or cancelled (YES/NO: only they set those statuses). A re-import leaves them as they are.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from tikabot.imports import fields as f
from tikabot.imports.fields import RowError
from tikabot.codes.appointment import code_hash, new_code, secret_of
from tikabot.store.models import Appointment, Beneficiary, Dose, Site, Staff
from tikabot.store.scope import LEVELS, SITE_LEVELS, STATE
from tikabot.reminders.booking import announce_booking
from tikabot.flows.vaccines import resolve

ROLES = ("vaccinator", "verifier", "coordinator")
SOURCES = ("sms", "ussd", "paper", "telegram")
IMPORTED, UPDATED, UNCHANGED = "imported", "updated", "unchanged"
CHOSEN = {"language": "language_chosen_at"}  # field -> when its person chose it (None: the registry's)


@dataclass
class Lookups:
    """Per-import caches so a 20,000-row file does not query sites once per row."""
    session: Session
    sites: dict[str, Site] = field(default_factory=dict)
    today: date = field(default_factory=date.today)  # the import day (TIKABOT_TZ): `today` in a date cell

    def site(self, code: str) -> Site:
        code = f.site_code(code)
        if code not in self.sites:
            found = self.session.scalar(select(Site).where(Site.code == code))
            if found is None:
                raise RowError(f"site {code} is not registered; import sites first")
            self.sites[code] = found
        return self.sites[code]

    def beneficiary(self, ref: str) -> Beneficiary:
        ref = f.ref(ref)
        found = self.session.scalar(select(Beneficiary).where(Beneficiary.ref == ref))
        if found is None:
            raise RowError(f"beneficiary {ref} is not registered; import beneficiaries first")
        return found


def _assign(obj, values: dict) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


def _upsert(session: Session, model, key: dict, values: dict) -> str:
    existing = session.scalar(select(model).filter_by(**key))
    if existing is None:
        session.add(model(**key, **values))
        return IMPORTED
    kept = {name: value for name, value in values.items()
            if name not in CHOSEN or getattr(existing, CHOSEN[name], None) is None}
    return UPDATED if _assign(existing, kept) else UNCHANGED


class Sites:
    columns = ("code", "name", "district", "state", "name_en", "name_bn", "name_hi")
    required = ("code", "name")

    @staticmethod
    def apply(lk: Lookups, row: dict) -> bool:
        code = f.site_code(f.required(row, "code"))
        changed = _upsert(lk.session, Site, {"code": code}, {
            "name": f.required(row, "name"), "district": row.get("district", ""),
            "state": row.get("state", ""), **f.site_names(row)})
        lk.sites.pop(code, None)
        return changed


class StaffKind:
    columns = ("phone", "name", "role", "site_code", "language", "telegram_user_id", "level", "scope",
               "report_via")
    required = ("phone", "name", "role", "site_code")

    @staticmethod
    def apply(lk: Lookups, row: dict) -> str:
        role = f.required(row, "role").lower()
        if role not in ROLES:
            raise RowError(f"role {row['role']!r} must be one of {', '.join(ROLES)}")
        site_id = None
        if row.get("site_code") or role != "coordinator":
            site_id = lk.site(f.required(row, "site_code")).id
        tg = row.get("telegram_user_id", "")
        if tg and not (tg.isdecimal() and len(tg) <= 18):  # isdigit() takes "²", which int() refuses
            raise RowError(f"telegram_user_id {tg!r} must be a number")
        level = (row.get("level") or "").strip().lower() or None
        if level not in LEVELS:
            raise RowError(f"level {row['level']!r} must be one of {', '.join(l for l in LEVELS if l)} or empty")
        if level in SITE_LEVELS and site_id is None:
            raise RowError(f"level {level} needs the coordinator's site_code")
        scope = _scope(lk.session, level, (row.get("scope") or "").strip())
        return _upsert(lk.session, Staff, {"phone": f.phone(f.required(row, "phone"))}, {
            "name": f.required(row, "name"), "role": role, "site_id": site_id,
            "language": f.language(row.get("language", ""), "en"),
            "telegram_user_id": int(tg) if tg else None, "active": True, "level": level, "scope": scope,
            **f.report_via(row)})


def _scope(session: Session, level: str | None, scope: str) -> str | None:
    """A coordinator's `scope`: a district of sites.csv (level district or empty) or a state (level
    state), as sites.csv writes it; a name no site has is refused, so a typo never hides every site."""
    if not scope:
        return None
    if level in SITE_LEVELS:
        raise RowError(f"scope is for the district and state levels; a {level} has its site_code")
    column = Site.state if level == STATE else Site.district
    names = {(n or "").strip().casefold(): n for n in session.scalars(select(column).distinct())}
    if scope.casefold() not in names:
        what = "state" if level == STATE else "district"
        raise RowError(f"scope {scope!r} is no {what} of the imported sites (sites.csv `{what}`)")
    return scope


class Beneficiaries:
    columns = ("ref", "name", "phone", "language", "category", "site_code")
    required = ("ref", "name", "phone", "site_code")

    @staticmethod
    def apply(lk: Lookups, row: dict) -> str:
        return _upsert(lk.session, Beneficiary, {"ref": f.ref(f.required(row, "ref"))}, {
            "name": f.required(row, "name"), "phone": f.phone(f.required(row, "phone")),
            "language": f.language(row.get("language", ""), "bn"),
            "category": row.get("category", ""), "site_id": lk.site(f.required(row, "site_code")).id})


class Appointments:
    columns = ("ref", "site_code", "dose", "date", "slot")
    required = columns

    @staticmethod
    def apply(lk: Lookups, row: dict) -> str:
        """A new date re-books a missed appointment; one the person confirmed or cancelled stays so,
        and one whose dose is given (done) is history: the file does not move it."""
        person = lk.beneficiary(f.required(row, "ref"))
        dose = f.dose_number(f.required(row, "dose"))
        values = {"site_id": lk.site(f.required(row, "site_code")).id,
                  "date": f.booking_date(f.required(row, "date"), lk.today),
                  "slot": f.slot(f.required(row, "slot"))}
        existing = lk.session.scalar(select(Appointment).filter_by(beneficiary_id=person.id, dose_number=dose))
        code = new_code()  # shown once, in the booking SMS; the appointment keeps its hash
        if existing is None:
            existing = Appointment(beneficiary_id=person.id, dose_number=dose, status="booked",
                                   security_code_hash=code_hash(secret_of(lk.session), person.id, code), **values)
            lk.session.add(existing)
            announce_booking(lk.session, existing, code)
            return IMPORTED
        if existing.status == "done":
            return UNCHANGED
        rescheduled = existing.date != values["date"]
        outcome = UPDATED if _assign(existing, values) else UNCHANGED
        if rescheduled and existing.status == "missed":
            existing.status = "booked"
        if announce_booking(lk.session, existing, code) is not None:  # a new date's notice: a new code with it
            existing.security_code_hash = code_hash(secret_of(lk.session), person.id, code)
        return outcome


class Doses:
    """Paper records: a dose already recorded (by SMS, USSD or an earlier import) is never doubled.

    An export read back (its extra columns at the end) changes nothing: its doses are on record
    already, and a row marked voided neither re-creates nor un-voids a dose."""
    columns = ("ref", "dose", "vaccine", "lot", "site_code", "administered_at", "vaccinator_phone", "source",
               "voided")
    required = ("ref", "dose", "vaccine", "lot", "site_code", "administered_at")

    @staticmethod
    def apply(lk: Lookups, row: dict) -> str:
        person = lk.beneficiary(f.required(row, "ref"))
        number = f.dose_number(f.required(row, "dose"))
        if f.yes_no(row.get("voided", ""), "voided"):
            return UNCHANGED  # an undone dose: nothing to record
        vaccine = resolve(f.required(row, "vaccine"))
        if vaccine is None:
            raise RowError(f"vaccine {row['vaccine']!r} is not known")
        source = (row.get("source") or "paper").lower()
        if source not in SOURCES:
            raise RowError(f"source {row['source']!r} must be one of {', '.join(SOURCES)}")
        others = lk.session.scalars(select(Dose).where(Dose.beneficiary_id == person.id)).all()
        for other in others:
            if other.dose_number != number and not other.voided and other.vaccine != vaccine.name:
                raise RowError(f"dose {number} vaccine {vaccine.name} differs from dose "
                               f"{other.dose_number} vaccine {other.vaccine}")
        values = {"vaccine": vaccine.name, "lot": f.required(row, "lot"),
                  "site_id": lk.site(f.required(row, "site_code")).id,
                  "administered_at": f.aware_datetime(f.required(row, "administered_at")),
                  "vaccinator_phone": f.phone(row["vaccinator_phone"], "vaccinator_phone")
                  if row.get("vaccinator_phone") else "", "source": source}
        existing = next((d for d in others if d.dose_number == number), None)
        if existing is None:
            lk.session.add(Dose(beneficiary_id=person.id, dose_number=number, **values))
            return IMPORTED
        if existing.voided:
            _assign(existing, {**values, "voided": False, "voided_at": None, "sync_state": "pending"})
            return UPDATED
        return UNCHANGED


KINDS = {"sites": Sites, "staff": StaffKind, "beneficiaries": Beneficiaries,
         "appointments": Appointments, "doses": Doses}
