"""Withdrawing appointment messages that have not gone yet.

A withdrawn row stays in the outbox (status `canceled`, the outbox's terminal word) with an audit entry saying why. The
planner never writes a second row under the same key; it turns a withdrawn row back to pending
only when the person wants it again (START after STOP, an appointment booked again).
"""
from __future__ import annotations

from sqlalchemy import bindparam, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from tikabot.outbox.unsent import CANCELLED, NEVER_SENT
from tikabot.reminders import schedule as s
from tikabot.store.models import Appointment, AuditLog, OutboundMessage

OURS = or_(OutboundMessage.idempotency_key.like("appt-%"), OutboundMessage.idempotency_key.like("due-%"))


def unsent(*conditions):
    return (select(OutboundMessage)
            .where(OURS, *NEVER_SENT, *conditions)
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


_OUTBOX = OutboundMessage.__table__
_DOSES_APPOINTMENT = (select(Appointment.id).where(Appointment.beneficiary_id == bindparam("b_id"),
                                                   Appointment.dose_number == bindparam("number"))
                      .scalar_subquery())


def _after_dose(dose2: bool):
    # The dose's appointment messages (`=` on a scalar subquery keeps SQLite on an index), the
    # missed-appointment message (it carries no appointment id), and after dose 2 the dose-2 reminders.
    which = [_OUTBOX.c.appointment_id == _DOSES_APPOINTMENT, _OUTBOX.c.template == s.MISSED.template]
    if dose2:
        which.append(_OUTBOX.c.template.in_(s.DUE_TEMPLATES))
    return (update(_OUTBOX)
            .where(_OUTBOX.c.beneficiary_id == bindparam("b_id"), *NEVER_SENT, or_(*which))
            .values(status=CANCELLED).returning(_OUTBOX.c.id))


AFTER_DOSE = {False: _after_dose(False), True: _after_dose(True)}


def withdraw_after_dose(conn: Connection, beneficiary_id: int, dose_number: int) -> int:
    """A dose is recorded: withdraw the person's messages that no longer apply, in one statement
    on their messages, with an audit entry when any were withdrawn. Returns how many."""
    ids = list(conn.execute(AFTER_DOSE[dose_number >= 2], {"b_id": beneficiary_id, "number": dose_number}).scalars())
    if ids:
        conn.execute(insert(AuditLog.__table__), {"actor": "reminders", "action": "reminders.cancelled",
                                                  "detail": {"reason": f"dose {dose_number} recorded",
                                                             "messages": sorted(ids)}})
    return len(ids)
