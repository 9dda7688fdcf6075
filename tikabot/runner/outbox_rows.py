"""`add_message` for the inbound hot path: the outbox's own contract, written as one Core INSERT.

Same arguments, same row, same idempotency (a second call with the same key adds nothing and
queues nothing) and the same hand-off to the queue after commit (tikabot.queue.outbox.dispatch_now)
as tikabot.queue.outbox.add_message, which stays the reference. The ORM version costs a SELECT,
a SAVEPOINT, an INSERT through the unit of work and a RELEASE; this one is a single
INSERT ... ON CONFLICT (idempotency_key) DO NOTHING RETURNING id, inside the write lock that
every DOSE queues for. On a database without ON CONFLICT it calls add_message itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tikabot.i18n.catalog import render
from tikabot.i18n.encoding import sms_info
from tikabot.queue import outbox
from tikabot.store.models import OutboundMessage

OUTBOX = OutboundMessage.__table__
_INSERT = {name: make(OUTBOX).on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(OUTBOX.c.id)
           for name, make in (("sqlite", sqlite.insert), ("postgresql", postgresql.insert))}


@dataclass(frozen=True)
class Queued:
    """What the queue hand-off reads from a new outbox row."""
    id: int
    priority: str
    not_before: datetime | None = None


def add_message(session: Session, *, key: str, recipient: str, template: str, language: str = "en",
                params: dict | None = None, body: str | None = None, priority: str = "default",
                channel: str = "sms", expires_at: datetime | None = None, not_before: datetime | None = None,
                beneficiary_id: int | None = None, appointment_id: int | None = None) -> int | None:
    """Add a message unless one with the same key exists; the new row's id (None: it existed)."""
    statement = _INSERT.get(session.get_bind().dialect.name)
    if statement is None:
        message = outbox.add_message(
            session, key=key, recipient=recipient, template=template, language=language, params=params, body=body,
            priority=priority, channel=channel, expires_at=expires_at, not_before=not_before,
            beneficiary_id=beneficiary_id, appointment_id=appointment_id)
        return message.id
    if priority not in outbox.PRIORITIES:
        raise ValueError(f"priority must be one of {outbox.PRIORITIES}")
    text = body if body is not None else render(template, language, **(params or {}))
    info = sms_info(text)
    new_id = session.connection().execute(statement, {
        "idempotency_key": key, "channel": channel, "recipient": recipient, "template": template,
        "language": language, "body": text, "encoding": info.encoding, "segments": info.segments,
        "priority": priority, "status": "pending", "expires_at": expires_at, "not_before": not_before,
        "beneficiary_id": beneficiary_id, "appointment_id": appointment_id}).scalar()
    if new_id is not None:
        outbox.dispatch_now(session, [Queued(new_id, priority, not_before)])
    return new_id
