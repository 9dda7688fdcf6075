"""The outbox: the one way any part of tikabot sends a message.

`add_message` writes the message in the caller's transaction, so a message exists exactly when
its cause (a dose, a booking, an OTP) was committed. Each new row is attached to the transaction's
post-commit hook "queue sends" (store/phases.py), which hands the ids to Redis once the transaction
has committed (OTPs as jobs, the rest onto the ready lists: outbox/transport.py). If Redis is down or
loses them, the relay finds them again from the database: the database is the record.
"""
from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable, Iterator

from sqlalchemy import JSON, DateTime, Text, bindparam, cast, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tikabot.i18n.catalog import render
from tikabot.i18n.encoding import sms_info
from tikabot.outbox import sealing
from tikabot.outbox import transport
from tikabot.store import phases
from tikabot.store.models import OutboundMessage

PRIORITIES = ("otp", "reply", "default", "bulk")  # reply: the answer to an inbound message

_TABLE = OutboundMessage.__table__
_INSERT = {name: make(_TABLE).on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(_TABLE.c.id)
           for name, make in (("sqlite", sqlite.insert), ("postgresql", postgresql.insert))}
_INSERT_MANY = {name: make(_TABLE).on_conflict_do_nothing(index_elements=["idempotency_key"])
                .returning(_TABLE.c.id, _TABLE.c.priority, _TABLE.c.not_before)
                for name, make in (("sqlite", sqlite.insert), ("postgresql", postgresql.insert))}
# PostgreSQL: a batch as one array a column, unnested. The statement's text is the same whatever
# the number of rows, so psycopg prepares it once; a multi-row VALUES is a new text of thousands of
# placeholders for each batch size, converted anew every time (most of a round's cost there).
_COLUMNS = ("idempotency_key", "channel", "recipient", "template", "language", "body", "sealed_body", "encoding",
            "segments", "priority", "status", "expires_at", "not_before", "beneficiary_id", "appointment_id",
            "buttons", "via")
_TIMES = {"expires_at", "not_before"}


def _unnested(name: str):
    column = _TABLE.c[name]
    if name == "buttons":  # JSON, sent as text: a list of button rows is not a PostgreSQL array
        return cast(func.unnest(bindparam(name, type_=ARRAY(Text))), JSON).label(name)
    element = DateTime() if name in _TIMES else column.type
    return func.unnest(bindparam(name, type_=ARRAY(element))).label(name)


_UNNEST_INSERT = (postgresql.insert(_TABLE).from_select(_COLUMNS, select(*(_unnested(n) for n in _COLUMNS)))
                  .on_conflict_do_nothing(index_elements=["idempotency_key"])
                  .returning(_TABLE.c.id, _TABLE.c.priority, _TABLE.c.not_before))


def _as_arrays(rows: list[dict]) -> dict[str, list]:
    arrays: dict[str, list] = {name: [] for name in _COLUMNS}
    for row in rows:
        for name in _COLUMNS:
            value = row[name]
            if name in _TIMES and value is not None:
                value = value.astimezone(timezone.utc).replace(tzinfo=None)  # as UTCDateTime stores it
            elif name == "buttons" and value is not None:
                value = json.dumps(value)
            arrays[name].append(value)
    return arrays


BATCH_KEY = "outbox_batch"  # session.info entry: insert_message attaches its rows to WRITE_ROWS (see `batched`)


def _row(session: Session, *, key: str, recipient: str, template: str, language: str = "en",
         params: dict | None = None, body: str | None = None, priority: str = "default", channel: str = "sms",
         expires_at: datetime | None = None, not_before: datetime | None = None,
         beneficiary_id: int | None = None, appointment_id: int | None = None,
         buttons: list | None = None, via: str | None = None) -> dict:
    """The outbox row for a message: rendered in its language, with encoding and segments; a code
    in it is masked in `body` and the real text sealed (outbox/sealing.py)."""
    if priority not in PRIORITIES:
        raise ValueError(f"priority must be one of {PRIORITIES}")
    text = body if body is not None else render(template, language, **(params or {}))
    masked = None if body is not None else sealing.masked_params(template, params or {})
    shown, sealed = text, None
    if masked is not None:
        shown, sealed = render(template, language, **masked), sealing.of_session(session).seal(text)
    info = sms_info(text)
    return dict(idempotency_key=key, channel=channel, recipient=recipient, template=template,
                language=language, body=shown, sealed_body=sealed, encoding=info.encoding, segments=info.segments,
                priority=priority, status="pending", expires_at=expires_at, not_before=not_before,
                beneficiary_id=beneficiary_id, appointment_id=appointment_id, buttons=buttons,
                via=via or None)


def add_message(session: Session, **message) -> OutboundMessage:
    """Add a message unless one with the same idempotency key exists; return the stored one.
    Keyword arguments: key, recipient, template, language, params or body, priority, channel,
    expires_at, not_before, beneficiary_id, appointment_id, buttons (Telegram inline buttons:
    rows of [label, callback data]), via (the provider route asked for)."""
    flush_batch(session)
    key = message["key"]
    existing = session.scalar(select(OutboundMessage).where(OutboundMessage.idempotency_key == key))
    if existing is not None:
        return existing
    row = OutboundMessage(**_row(session, **message))
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # another transaction added the same key first
        return session.scalar(select(OutboundMessage).where(OutboundMessage.idempotency_key == key))
    dispatch_now(session, [row])
    return row


@dataclass(frozen=True)
class Queued:
    """What the after-commit hand-off reads from a new outbox row."""
    id: int
    priority: str
    not_before: datetime | None = None


def insert_message(session: Session, **message) -> int | None:
    """`add_message` as one INSERT ... ON CONFLICT DO NOTHING, for hot paths (a DOSE report):
    no SELECT, no savepoint, no unit of work. Returns the new id, or None when the key existed;
    inside `batched`, None: the row is written with the transaction's others by the pre-commit
    hook "write outbox rows" (or earlier, by `flush_batch`)."""
    statement = _INSERT.get(session.get_bind().dialect.name)
    if statement is None:
        before = session.scalar(select(OutboundMessage.id).where(OutboundMessage.idempotency_key == message["key"]))
        return None if before is not None else add_message(session, **message).id
    values = _row(session, **message)
    if session.info.get(BATCH_KEY):
        phases.attach(session, WRITE_ROWS, [values])
        return None
    new_id = session.connection().execute(statement, values).scalar()
    if new_id is not None:
        dispatch_now(session, [Queued(new_id, values["priority"], values["not_before"])])
    return new_id


@contextmanager
def batched(session: Session) -> Iterator[None]:
    """Inside: insert_message attaches its rows to the pre-commit hook "write outbox rows", which
    writes every row of the transaction as one multi-row INSERT ... ON CONFLICT DO NOTHING just
    before the COMMIT (or earlier, by flush_batch, before anything reads the outbox). The same rows,
    keys and hand-offs as one INSERT each, in one statement instead of one a message."""
    session.info[BATCH_KEY] = True
    try:
        yield
    finally:
        session.info.pop(BATCH_KEY, None)


def flush_batch(session: Session) -> None:
    """Write the rows `batched` collected so far (a statement that reads the outbox must see them)."""
    phases.flush(session, WRITE_ROWS)


def _write_rows(session: Session, rows: list[dict]) -> None:
    """The pre-commit hook "write outbox rows": one INSERT for the rows; the new ones queued after commit."""
    if session.get_bind().dialect.name == "postgresql":
        new = sorted(session.connection().execute(_UNNEST_INSERT, _as_arrays(rows)).all())
    else:
        new = sorted(session.connection().execute(_INSERT_MANY["sqlite"], rows).all())
    dispatch_now(session, [Queued(row_id, priority, not_before) for row_id, priority, not_before in new])


def dispatch_now(session: Session, messages: Iterable[OutboundMessage | Queued]) -> None:
    """Hand messages (new, or re-queued by the relay, the planner or a coordinator) to the transport
    after this transaction commits: the post-commit hook "queue sends". Without a transaction unit
    (a session not opened by store.db.transaction) they are not handed off: the relay finds them."""
    phases.attach(session, QUEUE_SENDS, messages)


def _queue_sends(redis, pipe, pending: list) -> None:
    """The post-commit hook "queue sends": committed messages due now, onto Redis (outbox/transport.py);
    one that waits for its not_before is found by the relay when it falls due."""
    ready = [(m.id, m.priority) for m in pending if m.id is not None and m.not_before is None]
    if ready:
        transport.hand_off(redis, pipe, ready)


WRITE_ROWS = phases.Hook("write outbox rows", phases.PRE, _write_rows)
QUEUE_SENDS = phases.Hook("queue sends", phases.POST, _queue_sends)
