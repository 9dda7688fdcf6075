"""An uneven day for the coordinator's view, played on an injected clock (no waiting).

Six sites: U01 never starts; U02 goes silent at 10:25 (95 minutes by 12:00); U03-U06 reach 35 %,
50 %, 70 % and 90 % of due by 12:00; ten numbers fail (switched off, not a mobile, STOP, the
provider account); a SEVERE side effect at U03 at 11:00. A district coordinator reading English, one
reading Bengali, and a state coordinator. `play` steps the clock every few minutes from 08:30,
adds what happened by then, runs the alert checks as the worker does, and lets the coordinators
act as scripted: the English one acknowledges the "not opened" alert after ACK_AFTER; nobody
acknowledges the SEVERE one, which must escalate. It returns what each coordinator got and whether
it was acted on in time (the rehearsal's report shows it).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tikabot.alerts.state import AckTimes, acknowledge
from tikabot.alerts.checks import check_alerts
from tikabot.core.clock import as_utc, local_at
from tikabot.codes.appointment import code_hash, new_code, secret_of
from tikabot.store.models import (
    AdverseEvent, Appointment, Beneficiary, CoordinatorAlert, Dose, OutboundMessage, Site, Staff,
    VaccinationSession,
)

NOW = time(12, 0)
SHARES = {"U03": 0.35, "U04": 0.5, "U05": 0.7, "U06": 0.9}
DUE = 20
SLOTS = ("09:00-11:00", "11:00-13:00")
FAILING = (("30003", 4), ("30006", 2), ("21610", 2), ("20003", 2))  # switched off, not a mobile, STOP, account
ACK_AFTER = timedelta(minutes=8)
STEP = timedelta(minutes=5)
EN_ID, BN_ID, STATE_ID = 7101, 7102, 7103


@dataclass
class UnevenDay:
    day: date
    tz: str
    prefix: str = "U"
    sites: dict[str, int] = field(default_factory=dict)
    doses: list[tuple[datetime, int, int]] = field(default_factory=list)  # (when, site id, beneficiary id)
    openings: list[tuple[datetime, int, str]] = field(default_factory=list)
    severe_at: datetime | None = None
    severe: tuple[int, int] | None = None  # (beneficiary id, site id)

    def at(self, hh: int, mm: int = 0) -> datetime:
        return local_at(self.day, time(hh, mm), self.tz)


def build(session: Session, day: date, tz: str, prefix: str = "U") -> UnevenDay:
    """The district, the bookings and the day's script (nothing of the day happened yet)."""
    plan = UnevenDay(day, tz, prefix=prefix)
    names = ("Haringhata PHC", "Chakdaha RH", "Santipur SGH", "Kalyani JNM", "Gayeshpur UPHC", "Madanpur PHC")
    sites = [Site(code=f"{prefix}{i + 1:02d}", name=name, district="Nadia", state="WB")
             for i, name in enumerate(names)]
    session.add_all(sites)
    session.flush()
    session.add_all([
        Staff(phone="+919800070001", name="Asha Sen", role="coordinator", telegram_user_id=EN_ID, language="en"),
        Staff(phone="+919800070002", name="Dipa Roy", role="coordinator", telegram_user_id=BN_ID, language="bn"),
        Staff(phone="+919800070003", name="Raj Verma", role="coordinator", telegram_user_id=STATE_ID,
              language="hi", level="state"),
    ])
    for n, site in enumerate(sites):
        plan.sites[site.code] = site.id
        session.add(Staff(phone=f"+9198000710{n:02d}", name=f"In-charge {site.code}", role="vaccinator",
                          site_id=site.id, language="bn"))
        people = [Beneficiary(ref=f"9{n}{i:010d}", name=f"Person {site.code}-{i}", phone=f"+9197000{n:02d}{i:03d}",
                              site_id=site.id) for i in range(DUE)]
        session.add_all(people)
        session.flush()
        for i, person in enumerate(people):
            session.add(Appointment(beneficiary_id=person.id, site_id=site.id, dose_number=1, date=day,
                                    slot=SLOTS[i * len(SLOTS) // DUE],
                                    security_code_hash=code_hash(secret_of(session), person.id, new_code())))
        _script_site(plan, site, [p.id for p in people], n)
    _failing(session, plan)
    return plan


def _script_site(plan: UnevenDay, site: Site, people: list[int], n: int) -> None:
    code = site.code[len(plan.prefix):]
    if code == "01":
        return  # never starts
    # U02 opens on time; the others a little after the 10:00 check, so its "not opened" alert goes stale
    opened = plan.at(9, 0) if code == "02" else plan.at(10, 0) + timedelta(minutes=4 * n)
    plan.openings.append((opened, site.id, f"+9198000710{n:02d}"))
    if code == "02":
        times = [plan.at(9, 10) + timedelta(minutes=15 * i) for i in range(6)]  # the last at 10:25
    else:
        count = round(SHARES[f"U{code}"] * DUE)  # SHARES is keyed U03..U06 whatever the prefix
        span = plan.at(NOW.hour) - opened
        times = [opened + timedelta(minutes=2) + span * (i / max(count, 1)) for i in range(count)]
    plan.doses += [(moment, site.id, person) for moment, person in zip(times, people)]
    if code == "03":
        plan.severe_at, plan.severe = plan.at(11, 0), (people[0], site.id)


def _failing(session: Session, plan: UnevenDay) -> None:
    """Ten morning reminders failed at U04: five for the 09:00 slot, five for the 11:00 one."""
    rows = session.execute(select(Beneficiary, Appointment).join(Appointment, Appointment.beneficiary_id == Beneficiary.id)
                           .where(Beneficiary.site_id == plan.sites[f"{plan.prefix}04"]).order_by(Beneficiary.id)).all()
    chosen = rows[:5] + rows[DUE // 2:DUE // 2 + 5]
    codes = [code for code, count in FAILING for _ in range(count)]
    for (person, appointment), code in zip(chosen, codes):
        session.add(OutboundMessage(idempotency_key=f"uneven-fail-{person.id}", channel="sms",
                                    recipient=person.phone, template="appt.reminder_morning",
                                    body="Your vaccination is today", status="failed", last_error_code=code,
                                    beneficiary_id=person.id, appointment_id=appointment.id,
                                    created_at=plan.at(7, 0), updated_at=plan.at(7, 5)))


def happen_until(session: Session, plan: UnevenDay, since: datetime, until: datetime) -> None:
    """Write what happened in (since, until]: sessions opened, doses, the SEVERE report."""
    for moment, site_id, phone in plan.openings:
        if since < moment <= until:
            session.add(VaccinationSession(site_id=site_id, date=plan.day, vaccine="COVISHIELD", lot="4120Z025",
                                           opened_by=phone, opened_at=moment))
    for moment, site_id, person in plan.doses:
        if since < moment <= until:
            session.add(Dose(beneficiary_id=person, dose_number=1, vaccine="COVISHIELD", lot="4120Z025",
                             site_id=site_id, administered_at=moment, created_at=moment, source="sms"))
    if plan.severe_at and since < plan.severe_at <= until:
        person, site_id = plan.severe
        session.add(AdverseEvent(beneficiary_id=person, site_id=site_id, severity="SEVERE",
                                 note="fainted, not recovering", reported_by="+919800071002",
                                 created_at=plan.severe_at))


@dataclass
class Received:
    coordinator: str
    kind: str
    sent_at: datetime
    acked_by: str | None
    acked_after_min: float | None
    escalated: bool
    in_time: bool

    def as_dict(self) -> dict:
        return {"coordinator": self.coordinator, "alert": self.kind, "at": self.sent_at.isoformat(),
                "acked_by": self.acked_by, "acked_after_min": self.acked_after_min,
                "escalated": self.escalated, "acted_on_in_time": self.in_time}


def play(transaction, plan: UnevenDay, until: time = time(13, 0), times: AckTimes = AckTimes()) -> list[Received]:
    """Step the clock from 08:30 to `until`; `transaction()` gives a committed session each step."""
    moment, end = plan.at(8, 30), plan.at(until.hour, until.minute)
    previous = plan.at(0, 0)
    while moment <= end:
        with transaction() as session:
            happen_until(session, plan, previous, moment)
        with transaction() as session:
            check_alerts(session, moment, plan.tz, ack_times=times)
            _coordinators_act(session, moment)
        previous, moment = moment, moment + STEP
    with transaction() as session:
        return received(session, times)


def _coordinators_act(session: Session, now: datetime) -> None:
    """The English coordinator acknowledges a "not opened" or "silent" alert ACK_AFTER after it came."""
    asha = session.scalar(select(Staff).where(Staff.telegram_user_id == EN_ID))
    for alert in session.scalars(select(CoordinatorAlert).where(CoordinatorAlert.acked_at.is_(None),
                                                                CoordinatorAlert.kind.in_(("no_session", "site_silent")))):
        if now - as_utc(alert.raised_at) >= ACK_AFTER:
            acknowledge(session, alert.id, asha, now)


def received(session: Session, times: AckTimes = AckTimes()) -> list[Received]:
    """Each alert each coordinator got, and whether it was acknowledged within its time."""
    out = []
    for alert in session.scalars(select(CoordinatorAlert).order_by(CoordinatorAlert.id)):
        by = session.get(Staff, alert.acked_by) if alert.acked_by else None
        after = ((as_utc(alert.acked_at) - as_utc(alert.raised_at)).total_seconds() / 60) if alert.acked_at else None
        in_time = after is not None and after <= times.of(alert).total_seconds() / 60
        for person in session.scalars(select(Staff).where(Staff.role == "coordinator").order_by(Staff.id)):
            recipients = {str(person.telegram_user_id), person.phone}
            keys = session.scalars(select(OutboundMessage.idempotency_key).where(
                OutboundMessage.idempotency_key.like(f"alert-{alert.key}-%"),
                OutboundMessage.recipient.in_(recipients))).all()
            if not keys:
                continue
            escalated_to = all("-state-" in k for k in keys)
            sent = as_utc(alert.escalated_at) if escalated_to and alert.escalated_at else as_utc(alert.raised_at)
            if True:
                out.append(Received(person.name, alert.kind, sent, by.name if by else None,
                                    round(after, 1) if after is not None else None,
                                    alert.escalated_at is not None, in_time))
    return out
