"""The planner's catch-up: doses recorded without a confirmation (paper records) get the one
flows/confirmation.py builds for every dose. (A dose reported by SMS or USSD is confirmed in its
own transaction by runner/apply.py; what a dose withdraws: reminders.cancel.withdraw_after_dose.)"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tikabot.flows import course
from tikabot.flows.confirmation import confirmation_key, dose_confirmation
from tikabot.flows.names import first_name
from tikabot.outbox.messages import add_message
from tikabot.reminders.policy import Policy
from tikabot.store.models import Dose, OutboundMessage

CONFIRMATIONS = course.TEMPLATES


def confirm_dose(session: Session, dose: Dose, policy: Policy,
                 not_before: datetime | None = None) -> OutboundMessage:
    """The confirmation SMS: dose, vaccine and the next dose's due date (or 'fully vaccinated')."""
    person = dose.beneficiary
    on_record = session.scalars(select(Dose.dose_number).where(
        Dose.beneficiary_id == person.id, Dose.voided.is_(False), Dose.id != dose.id)).all()
    message = dose_confirmation(first_name(person.name), dose.dose_number, dose.vaccine, on_record,
                                policy.local_date(dose.administered_at))
    return add_message(session, key=confirmation_key(dose.id), recipient=person.phone, template=message.template,
                       language=person.language, params=message.params, priority="default",
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
