"""Dose confirmations: one per dose record, with the next due date. (What a dose withdraws:
reminders.cancel.withdraw_after_dose, called by runner.apply.record_dose.)"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tikabot.flows import course
from tikabot.flows.vaccines import resolve
from tikabot.queue.outbox import add_message
from tikabot.reminders.policy import Policy
from tikabot.reminders.schedule import first_name
from tikabot.store.models import Dose, OutboundMessage

CONFIRMATIONS = course.TEMPLATES


def confirmation_key(dose_id: int) -> str:
    """One confirmation per dose record, whichever path confirms it (a report, a re-report after
    UNDO, the planner's catch-up for paper records)."""
    return f"dose-{dose_id}-confirmation"


def confirm_dose(session: Session, dose: Dose, policy: Policy,
                 not_before: datetime | None = None) -> OutboundMessage:
    """The confirmation SMS: dose, vaccine and the next dose's due date (or 'fully vaccinated')."""
    person = dose.beneficiary
    vaccine = resolve(dose.vaccine)
    params = {"name": first_name(person.name), "dose": dose.dose_number, "vaccine": dose.vaccine}
    on_record = session.scalars(select(Dose.dose_number).where(
        Dose.beneficiary_id == person.id, Dose.voided.is_(False), Dose.id != dose.id)).all()
    template = course.confirmation_template(dose.dose_number, dose.vaccine, on_record)
    if template == course.CONFIRMATION:
        due = policy.local_date(dose.administered_at) + timedelta(days=vaccine.min_interval_days)
        params["next_due"] = due
    elif template == course.FINAL_NOT_ON_RECORD:
        have = {*on_record, dose.dose_number}
        params["missing"] = course.numbers(course.missing_before(max(have), have))
    return add_message(session, key=confirmation_key(dose.id), recipient=person.phone, template=template,
                       language=person.language, params=params, priority="default",
                       not_before=not_before, beneficiary_id=person.id)


def confirm_recent_doses(session: Session, now: datetime, policy: Policy) -> int:
    """Confirm doses recorded in the last day that got no confirmation (paper imports, say)."""
    recent = session.scalars(select(Dose).where(
        Dose.voided.is_(False), Dose.created_at >= now - timedelta(days=1),
        Dose.administered_at >= now - timedelta(days=2)).order_by(Dose.id)).all()
    added = 0
    for dose in recent:
        already = session.scalar(select(OutboundMessage.id).where(
            OutboundMessage.beneficiary_id == dose.beneficiary_id,
            OutboundMessage.template.in_(CONFIRMATIONS),
            OutboundMessage.created_at >= dose.created_at - timedelta(minutes=5)).limit(1))
        if already is None:
            send_at = policy.out_of_quiet(now)
            confirm_dose(session, dose, policy, not_before=send_at if send_at > now else None)
            added += 1
    return added
