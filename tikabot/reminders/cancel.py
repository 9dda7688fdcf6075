"""Withdrawing appointment messages that have not gone yet.

A withdrawn row stays in the outbox (status `canceled`, the outbox's terminal word) with an audit entry saying why. The
planner never writes a second row under the same key; it turns a withdrawn row back to pending
only when the person wants it again (START after STOP, an appointment booked again).
"""
from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from tikabot.reminders import schedule as s
from tikabot.store.models import AuditLog, OutboundMessage

CANCELLED = "canceled"  # tikabot.queue.statuses spells it as Twilio does
NOT_YET_SENT = ("pending",)  # with no attempt made: safe to withdraw (the sender claims only pending rows)
# "Never handed to the provider", written so that no index is used for it: as `provider_id IS NULL`
# SQLite reads it through the unique provider_id index, i.e. walks every unsent message in the
# outbox instead of the few rows of one appointment or person.
NO_PROVIDER_ID = func.coalesce(OutboundMessage.provider_id, "") == ""
OURS = or_(OutboundMessage.idempotency_key.like("appt-%"), OutboundMessage.idempotency_key.like("due-%"))


def unsent(*conditions):
    return (select(OutboundMessage)
            .where(OURS, OutboundMessage.status.in_(NOT_YET_SENT), NO_PROVIDER_ID,
                   OutboundMessage.attempts == 0, *conditions)
            .order_by(OutboundMessage.id))


def withdraw(session: Session, rows: list[OutboundMessage], reason: str) -> int:
    for row in rows:
        row.status = CANCELLED
    if rows:
        session.add(AuditLog(actor="reminders", action="reminders.cancelled",
                             detail={"reason": reason, "messages": [r.id for r in rows]}))
    return len(rows)


def cancel_pending(session: Session, appointment_id: int | None = None, beneficiary_id: int | None = None,
                   reason: str = "") -> int:
    """Withdraw appointment messages that have not gone yet; returns how many were withdrawn.

    appointment_id: every message about that appointment, whatever its date: call it when the
    appointment is cancelled (NO) or its dose is recorded.
    beneficiary_id: every appointment message and dose-2 reminder to that person: call it on STOP
    (verification codes and dose confirmations are not touched). Both given: both must match.
    """
    if appointment_id is None and beneficiary_id is None:
        raise ValueError("cancel_pending needs an appointment_id or a beneficiary_id")
    conditions = [OutboundMessage.template.in_(s.ALL_TEMPLATES)]
    if appointment_id is not None:  # by key: the missed-appointment message carries no appointment_id
        conditions.append(OutboundMessage.idempotency_key.like(f"appt-{int(appointment_id)}-%"))
    if beneficiary_id is not None:
        conditions.append(OutboundMessage.beneficiary_id == beneficiary_id)
    return withdraw(session, list(session.scalars(unsent(*conditions))), reason)


def cancel_dose2_due(session: Session, beneficiary_id: int, reason: str) -> int:
    rows = session.scalars(unsent(OutboundMessage.beneficiary_id == beneficiary_id,
                                  OutboundMessage.template.in_(s.DUE_TEMPLATES)))
    return withdraw(session, list(rows), reason)
