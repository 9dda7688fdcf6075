"""A small world for reminder tests: one site, people, appointments, and the planner at set times."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select

from tests.support.worlds.small_district import hashed
from tikabot.flows.effects import RecordDose
from tikabot.reminders.policy import Policy
from tikabot.reminders.booking import announce_booking
from tikabot.reminders.planner import plan
from tikabot.runner.apply import Context, record_dose
from tikabot.store.models import Appointment, Beneficiary, OutboundMessage, Site

IST = ZoneInfo("Asia/Kolkata")


def ist(day: date, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=IST).astimezone(timezone.utc)


class World:
    def __init__(self, services):
        self.services = services
        self.config = services.config
        with services.transaction() as s:
            site = Site(code="S001", name="Kalyani PHC", district="Nadia", state="West Bengal")
            s.add(site)
            s.flush()
            self.site_id = site.id
        self.codes: dict[int, str] = {}  # appointment id -> its code, which the import alone knows

    def person(self, ref="0700000001", name="Rahima Khatun", phone="+919830012345", language="en") -> int:
        with self.services.transaction() as s:
            b = Beneficiary(ref=ref, name=name, phone=phone, language=language, site_id=self.site_id)
            s.add(b)
            s.flush()
            return b.id

    def book(self, person_id: int, day: date, dose: int = 1, slot="09:00-11:00", code="4821") -> int:
        with self.services.transaction() as s:
            a = Appointment(beneficiary_id=person_id, site_id=self.site_id, dose_number=dose, date=day,
                            slot=slot, security_code_hash=hashed(person_id, code), status="booked")
            s.add(a)
            s.flush()
            self.codes[a.id] = code
            return a.id

    def plan(self, now: datetime) -> dict[str, int]:
        """The planner at now, after the booking notices an import at now would add (the import is
        the only one that knows a code: it announces a new appointment or a new date)."""
        policy = Policy.from_config(self.config)
        with self.services.transaction() as s:
            booked = sum(announce_booking(s, s.get(Appointment, appt), code, now, policy) is not None
                         for appt, code in self.codes.items())
            counts = plan(s, now, self.config)
        return {"booked": booked, **counts} if booked else counts

    def dose(self, person_id: int, number: int, at: datetime, vaccine="COVISHIELD") -> int:
        """A dose recorded by the DOSE command's own code (runner.apply.record_dose): the appointment
        done, the messages that no longer apply withdrawn, the confirmation with the next due date."""
        with self.services.transaction() as s:  # no confirm_to: record_dose reads the person and their doses
            effect = RecordDose(beneficiary_id=person_id, ref=s.get(Beneficiary, person_id).ref, dose_number=number,
                                vaccine=vaccine, lot="4120Z025", site_id=self.site_id)
            ctx = Context(actor="+919830000001", source="sms", key=f"dose-{person_id}-{number}", now=at,
                          tz="Asia/Kolkata", otp_secret="test")
            dose_id, recorded = record_dose(s, effect, ctx)
        assert recorded
        return dose_id

    def set(self, model, row_id: int, **values) -> None:
        with self.services.transaction() as s:
            obj = s.get(model, row_id)
            for k, v in values.items():
                setattr(obj, k, v)

    def messages(self, status: str | None = None) -> list[OutboundMessage]:
        with self.services.sessions() as s:
            query = select(OutboundMessage).order_by(OutboundMessage.id)
            if status:
                query = query.where(OutboundMessage.status == status)
            return list(s.scalars(query))

    def going(self) -> list[tuple[str, str]]:
        """(local send time or 'at once', template) of every message still to go, in sending order."""
        rows = [m for m in self.messages() if m.status == "pending"]
        timed = sorted((m.not_before, m.template) for m in rows if m.not_before is not None)
        return ([("at once", m.template) for m in rows if m.not_before is None]
                + [(when.astimezone(IST).strftime("%m-%d %H:%M"), template) for when, template in timed])

    def send_due(self, now: datetime) -> list[str]:
        """Stand-in for the outbound worker at `now`: pending rows whose time has come are sent
        (status 'sent'), those past expires_at are dropped ('expired'). Returns sent templates."""
        sent = []
        with self.services.transaction() as s:
            for m in s.scalars(select(OutboundMessage).where(OutboundMessage.status == "pending")
                               .order_by(OutboundMessage.id)):
                if m.expires_at is not None and m.expires_at <= now:
                    m.status = "expired"
                elif m.not_before is None or m.not_before <= now:
                    m.status, m.sent_at = "sent", now
                    sent.append(m.template)
        return sent
