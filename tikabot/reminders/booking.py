"""The booking notice: date, slot, site and security code, added when an appointment is imported.

Keyed by the appointment and its date: importing the same file again adds nothing, and a new
date brings a new notice with a new code (the planner withdraws the old date's reminders). The
code exists only in the import that made it (the appointment keeps its hash): a notice not written
then (it would have arrived after the slot) is never written by a later pass.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tikabot.core import clock
from tikabot.outbox.messages import add_message
from tikabot.reminders import schedule as s
from tikabot.reminders.candidates import appointment_candidates
from tikabot.reminders.policy import Policy
from tikabot.store.models import Appointment, Dose, OutboundMessage
from tikabot.config import Config


def announce_booking(session: Session, appointment: Appointment, code: str, now: datetime | None = None,
                     policy: Policy | None = None) -> OutboundMessage | None:
    """Add the booking notice with code unless it is no longer wanted, would arrive after the slot or
    was added before (same appointment and date); the new notice, else None."""
    now = now or clock.now()
    policy = policy or Policy.from_config(Config.from_env(dotenv=False))
    session.flush()  # ids for a new appointment
    session.expire(appointment, ["beneficiary", "site"])  # follow a changed site or person
    has_dose = session.query(Dose.id).filter_by(beneficiary_id=appointment.beneficiary_id,
                                                dose_number=appointment.dose_number,
                                                voided=False).first() is not None
    for candidate in appointment_candidates(appointment, has_dose, code=code):
        if candidate.kind is s.BOOKED:
            if session.scalar(select(OutboundMessage.id).where(OutboundMessage.idempotency_key == candidate.key)):
                return None  # announced before, with the code then made
            return write(session, candidate, candidate.timing(now, policy), now)
    return None


def write(session: Session, candidate, timing: s.Timing, now: datetime) -> OutboundMessage | None:
    if not s.plannable(timing, now):
        return None
    if candidate.kind is s.BOOKED and candidate.params.get("code") is None:
        return None  # only the import that made the code can announce it
    return add_message(session, key=candidate.key, recipient=candidate.recipient,
                       template=candidate.kind.template, language=candidate.language,
                       params=candidate.params, priority="bulk", not_before=timing.not_before(now),
                       expires_at=timing.expires_at, beneficiary_id=candidate.beneficiary_id,
                       appointment_id=candidate.appointment_id)
