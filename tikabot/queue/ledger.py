"""The outbox rows a sender touches: claim with a lease, then record what the provider said.

Every write is conditional on the row still being in the state this sender left it in
(`status = 'sending' AND attempts = :attempt`), so a slow sender whose lease the relay already
took back, or a status callback that got there first, is never overwritten.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, case, select, update
from sqlalchemy.orm import Session

from tikabot.core.clock import local_date
from tikabot.core.sending import Accepted, Outgoing
from tikabot.outbox import sealing
from tikabot.store.models import Appointment, Beneficiary, OutboundMessage

T = OutboundMessage.__table__


@dataclass(frozen=True)
class Claimed:
    message: Outgoing
    template: str
    earlier_attempt_at: datetime | None  # an earlier attempt whose outcome is unknown
    via: str | None = None  # the route asked for, or the one the last attempt went by
    # provider ids of other messages to the same phone since that attempt: a provider that finds
    # copies by phone and words (Twilio) must not take one of theirs for this message's
    taken: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Outcome:
    """What became of one attempt. kind: accepted | retry | failed | expired | released | late | paced."""
    id: int
    attempt: int
    kind: str
    accepted: Accepted | None = None
    code: str | None = None
    at: datetime | None = None       # retry / released: when it may go again
    unknown: bool = False            # retry: the attempt may have reached the provider
    recipient: str | None = None     # failed with opt-out
    checked: bool = False            # accepted: a copy the provider check found, not a new send
    via: str | None = None           # the route this attempt went by (None: keep the row's)
    route_alerted: bool = False      # released: the route's outage alert tells coordinators


def _skip_reason(row, now: datetime, tz: str) -> str | None:
    if row.expires_at is not None and row.expires_at <= now:
        return "expired"
    if row.appt_date is not None and (row.appt_date < local_date(now, tz) or row.appt_status == "cancelled"):
        return "canceled"
    if row.priority == "bulk" and row.opted_out:
        return "canceled"
    return None


TAKEN_MARGIN = timedelta(minutes=5)  # clocks and the provider's list reach back a little before the attempt


def _taken_since(session: Session, message_id: int, recipient: str, since: datetime | None) -> frozenset[str]:
    """Provider ids other messages to this phone hold, updated since the earlier attempt (only for a
    message whose earlier attempt's outcome is unknown: the provider check looks for its copy)."""
    if since is None:
        return frozenset()
    found = session.scalars(select(T.c.provider_id).where(
        T.c.recipient == recipient, T.c.id != message_id, T.c.provider_id.is_not(None),
        T.c.updated_at >= since - TAKEN_MARGIN))
    return frozenset(found)


def claim(session: Session, ids: list[int], *, now: datetime, lease_s: float, channels,
          tz: str, bulk_limit: int | None = None) -> tuple[list[Claimed], int, list[int]]:
    """Lease the sendable messages among ids; close the ones that must never go (expired OTPs,
    past reminders). Returns the claims, how many were closed, and the bulk ids beyond
    bulk_limit, left pending for another job."""
    query = (select(T.c.id, T.c.attempts, T.c.channel, T.c.recipient, T.c.body, T.c.sealed_body, T.c.language,
                    T.c.priority, T.c.template, T.c.expires_at, T.c.not_before, T.c.attempt_started_at, T.c.via, T.c.buttons,
                    Appointment.date.label("appt_date"), Appointment.status.label("appt_status"),
                    Beneficiary.opted_out)
             .select_from(T.outerjoin(Appointment, Appointment.id == T.c.appointment_id)
                          .outerjoin(Beneficiary, Beneficiary.id == T.c.beneficiary_id))
             .where(T.c.id.in_(ids), T.c.status == "pending", T.c.channel.in_(list(channels)))
             .order_by(T.c.id).with_for_update(of=T, skip_locked=True))
    claims, closed, left = [], [], []
    bulk = 0
    seal = sealing.of_session(session)
    for row in session.execute(query):
        if row.not_before is not None and row.not_before > now:
            continue
        reason = _skip_reason(row, now, tz)
        if reason:
            closed.append({"b_id": row.id, "b_status": reason})
            continue
        if row.priority == "bulk":
            bulk += 1
            if bulk_limit is not None and bulk > bulk_limit:
                left.append(row.id)
                continue
        attempt = row.attempts + 1
        body = sealing.readable(row.body, row.sealed_body, seal)
        taken = _taken_since(session, row.id, row.recipient, row.attempt_started_at)
        claims.append(Claimed(Outgoing(row.id, attempt, row.channel, row.recipient, body, row.language,
                                       row.priority, row.expires_at, buttons=row.buttons), row.template,
                                       row.attempt_started_at, row.via, taken))
    if claims:
        session.execute(update(T).where(T.c.id.in_([c.message.id for c in claims]), T.c.status == "pending")
                        .values(status="sending", lease_until=now + timedelta(seconds=lease_s),
                                attempts=T.c.attempts + 1, attempt_started_at=now, updated_at=now))
    if closed:
        session.execute(update(T).where(T.c.id == bindparam("b_id"), T.c.status == "pending")
                        .values(status=bindparam("b_status"), lease_until=None, sealed_body=None, updated_at=now),
                        closed)
    return claims, len(closed), left


def _mine():
    return and_(T.c.id == bindparam("b_id"), T.c.status == "sending", T.c.attempts == bindparam("b_attempt"))


def record(session: Session, outcomes: list[Outcome], now: datetime) -> None:
    """Write the outcomes of one batch, one statement per kind."""
    groups: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        groups.setdefault(outcome.kind, []).append(outcome)
    if "accepted" in groups:
        session.execute(update(T).where(_mine()).values(
            status=bindparam("b_status"), provider_id=bindparam("b_sid"), sent_at=now, lease_until=None,
            attempt_started_at=None, updated_at=now),
            [{"b_id": o.id, "b_attempt": o.attempt, "b_sid": o.accepted.provider_id,
              "b_status": o.accepted.provider_status} for o in groups["accepted"]])
    if "retry" in groups:
        # After an unknown outcome attempt_started_at stays: the next attempt asks the provider first.
        for unknown in (True, False):
            rows = [o for o in groups["retry"] if o.unknown is unknown]
            values = dict(status="pending", not_before=bindparam("b_at"), last_error_code=bindparam("b_code"),
                          lease_until=None, updated_at=now)
            if not unknown:
                values["attempt_started_at"] = None
            if rows:
                session.execute(update(T).where(_mine()).values(**values),
                                [{"b_id": o.id, "b_attempt": o.attempt, "b_at": o.at, "b_code": o.code}
                                 for o in rows])
    for kind in ("failed", "expired"):
        if kind in groups:  # a failed OTP keeps its sealed text for the voice call (outbox/sealing.py)
            sealed = None if kind == "expired" else case((T.c.template == sealing.KEPT_WHEN_FAILED, T.c.sealed_body))
            session.execute(update(T).where(_mine()).values(
                status=kind, last_error_code=bindparam("b_code"), lease_until=None, sealed_body=sealed, updated_at=now),
                [{"b_id": o.id, "b_attempt": o.attempt, "b_code": o.code} for o in groups[kind]])
    # Not sent, and this attempt does not count: sending is paused (released), the message's
    # turn at the bulk pace came too close to the end of its lease (late), or a gateway phone's
    # next slot was further off than the message may wait (paced).
    returned = groups.get("released", []) + groups.get("late", []) + groups.get("paced", [])
    if returned:
        session.execute(update(T).where(_mine()).values(
            status="pending", attempts=T.c.attempts - 1, not_before=bindparam("b_at"),
            last_error_code=bindparam("b_code"), lease_until=None, attempt_started_at=None, updated_at=now),
            [{"b_id": o.id, "b_attempt": o.attempt, "b_at": o.at, "b_code": o.code} for o in returned])
    _record_routes(session, [o for o in outcomes if o.via and o.kind in ("accepted", "retry", "failed")])
    opted_out = {o.recipient for o in groups.get("failed", []) if o.recipient}
    if opted_out:
        mark_opted_out(session, opted_out)


def _record_routes(session: Session, outcomes: list[Outcome]) -> None:
    """The route each attempt went by, whatever its status now: a status callback naming this
    attempt may have settled the row first (queue/callbacks.py), and the copy it found went by
    this attempt's route. A later attempt (more attempts) is left alone."""
    if outcomes:
        session.execute(update(T).where(T.c.id == bindparam("b_id"), T.c.attempts == bindparam("b_attempt"))
                        .values(via=bindparam("b_via")),
                        [{"b_id": o.id, "b_attempt": o.attempt, "b_via": o.via} for o in outcomes])


def mark_opted_out(session: Session, phones) -> None:
    """Twilio said 21610: the number sent STOP to our sender. No more reminders to it."""
    session.execute(update(Beneficiary).where(Beneficiary.phone.in_(list(phones))).values(opted_out=True))


