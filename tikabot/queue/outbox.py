"""The outbox: the one way any part of tikabot sends a message.

`add_message` writes the message in the caller's transaction, so a message exists exactly when
its cause (a dose, a booking, an OTP) was committed. Once that transaction commits, the new ids
are handed to the dispatcher configured on the session factory (Redis transport). If Redis is down
or loses them, the relay finds them again from the database: the database is the record.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Callable, Iterable

from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tikabot.i18n.catalog import render
from tikabot.i18n.encoding import sms_info
from tikabot.store.models import OutboundMessage

PRIORITIES = ("otp", "default", "bulk")
PENDING_KEY = "tikabot_outbox_new"
DISPATCH_KEY = "dispatch"  # session.info entry: callable(list[(id, priority)]) run after commit

log = logging.getLogger(__name__)
Dispatch = Callable[[list[tuple[int, str]]], None]


def add_message(session: Session, *, key: str, recipient: str, template: str, language: str = "en",
                params: dict | None = None, body: str | None = None, priority: str = "default",
                channel: str = "sms", expires_at: datetime | None = None,
                not_before: datetime | None = None, beneficiary_id: int | None = None,
                appointment_id: int | None = None) -> OutboundMessage:
    """Add a message unless one with the same idempotency key exists; return the stored one."""
    if priority not in PRIORITIES:
        raise ValueError(f"priority must be one of {PRIORITIES}")
    existing = session.scalar(select(OutboundMessage).where(OutboundMessage.idempotency_key == key))
    if existing is not None:
        return existing
    text = body if body is not None else render(template, language, **(params or {}))
    info = sms_info(text)
    message = OutboundMessage(
        idempotency_key=key, channel=channel, recipient=recipient, template=template, language=language,
        body=text, encoding=info.encoding, segments=info.segments, priority=priority, status="pending",
        expires_at=expires_at, not_before=not_before, beneficiary_id=beneficiary_id,
        appointment_id=appointment_id)
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:  # another transaction added the same key first
        return session.scalar(select(OutboundMessage).where(OutboundMessage.idempotency_key == key))
    session.info.setdefault(PENDING_KEY, []).append(message)
    return message


def dispatch_now(session: Session, messages: Iterable[OutboundMessage]) -> None:
    """Hand messages (e.g. re-queued by the relay) to the transport after this transaction commits."""
    session.info.setdefault(PENDING_KEY, []).extend(messages)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    pending = session.info.pop(PENDING_KEY, None)
    dispatch: Dispatch | None = session.info.get(DISPATCH_KEY)
    if not pending or dispatch is None:
        return
    ready = [(m.id, m.priority) for m in pending if m.id is not None and m.not_before is None]
    if ready:
        try:
            dispatch(ready)
        except Exception:  # Redis down: the relay re-queues from the database
            log.warning("could not queue %d messages; the relay will", len(ready))


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)
