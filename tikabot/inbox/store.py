"""The inbox table's statements: keep a message (one INSERT), claim messages in order per sender.

A message is `new` until the transaction that applies its effects marks it `done`. A worker claims
messages by setting `lease_until` (the same instant for its whole claim: that instant is the
claim's token); a lease that runs out (the worker was killed) lets another worker take the message.
Claims are made one at a time (SQLite's write lock, PostgreSQL's advisory lock), so a sender whose
oldest messages are leased to one worker is skipped by every other: one sender's messages never
run concurrently or out of order.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import and_, bindparam, case, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from tikabot.core import clock
from tikabot.store.gate import write_gate
from tikabot.core.message import Held, InboundMessage
from tikabot.store.db import plain_reads
from tikabot.store.models import InboundMessage as InboundRow

INBOX = InboundRow.__table__
SCAN = 2000  # the oldest new messages looked at per claim
MAX_ATTEMPTS = 25  # claims of one message (each kill of a worker holding it counts one) before it is given up
CLAIM_LOCK = 7202  # PostgreSQL advisory lock: "claiming inbox messages"
_INSERT = {name: make(INBOX).on_conflict_do_nothing(index_elements=["provider_id"])
           for name, make in (("sqlite", sqlite.insert), ("postgresql", postgresql.insert))}
# The scan reads only what the claim decides on (no bodies, no timestamps to parse): whether a row's
# lease still holds is asked of the database; the rows taken come back from the lease's UPDATE.
_HELD_NOW = case((and_(INBOX.c.lease_until.is_not(None), INBOX.c.lease_until >= bindparam("now")), 1), else_=0)
_SCAN = (select(INBOX.c.id, INBOX.c.sender, INBOX.c.attempts, _HELD_NOW)
         .where(INBOX.c.status == "new").order_by(INBOX.c.id).limit(SCAN))
_WAITING = (select(INBOX.c.id).where(INBOX.c.status == "new")
            .where((INBOX.c.lease_until.is_(None)) | (INBOX.c.lease_until < bindparam("now"))).limit(1))
_LEASE = (update(INBOX).where(INBOX.c.id.in_(bindparam("ids", expanding=True)))
          .values(lease_until=bindparam("until"), attempts=INBOX.c.attempts + 1)
          .returning(INBOX.c.id, INBOX.c.provider_id, INBOX.c.channel, INBOX.c.sender, INBOX.c.body, INBOX.c.via))
_GIVE_UP = update(INBOX).where(INBOX.c.id.in_(bindparam("ids", expanding=True))).values(status="failed")
_DONE = (update(INBOX).where(INBOX.c.id.in_(bindparam("ids", expanding=True)), INBOX.c.status == "new",
                             INBOX.c.lease_until == bindparam("until"))
         .values(status="done", processed_at=bindparam("now"), lease_until=None))
_REPLY = update(INBOX).where(INBOX.c.id == bindparam("row_id")).values(reply=bindparam("reply"))
_RELEASE = (update(INBOX).where(INBOX.c.id.in_(bindparam("ids", expanding=True)), INBOX.c.status == "new",
                                INBOX.c.lease_until == bindparam("until")).values(lease_until=None))


def row(message: InboundMessage, received_at: datetime) -> dict:
    return {"provider_id": message.provider_id, "channel": message.channel, "sender": message.sender,
            "body": message.text, "via": message.via or None, "received_at": received_at, "status": "new"}


def keep(conn: Connection, rows: list[dict]) -> None:
    """INSERT new messages; a provider id already kept is skipped (a replay changes nothing)."""
    for one in rows:
        one.setdefault("status", "new")
    statement = _INSERT.get(conn.dialect.name)
    if statement is not None:
        conn.execute(statement, rows)
        return
    known = set(conn.execute(select(INBOX.c.provider_id).where(
        INBOX.c.provider_id.in_([r["provider_id"] for r in rows]))).scalars())
    fresh = [r for r in rows if r["provider_id"] not in known]
    if fresh:
        conn.execute(insert(INBOX), fresh)


_COLUMNS = "provider_id, channel, sender, body, via, received_at, status, attempts"
_RAW_INSERT = {
    "sqlite": f"INSERT INTO inbound_messages ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, 'new', 0) "
              "ON CONFLICT (provider_id) DO NOTHING",
    "postgresql": f"INSERT INTO inbound_messages ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, 'new', 0) "
                  "ON CONFLICT (provider_id) DO NOTHING",
}


def _stored_time(dialect: str, moment: datetime):
    """A timestamp as models.UTCDateTime stores it: naive UTC (SQLite: SQLAlchemy's text form)."""
    naive = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return naive.strftime("%Y-%m-%d %H:%M:%S.%f") if dialect == "sqlite" else naive


def keep_one(engine: Engine, message: InboundMessage, received_at: datetime, wait_s: float = 1.0) -> None:
    """The webhook's one statement: INSERT ... ON CONFLICT DO NOTHING on a driver connection in
    autocommit (SQLite: an implicit transaction; PostgreSQL: one round trip), no BEGIN, no COMMIT,
    no SQLAlchemy execution machinery: it is most of what accepting a message costs."""
    dialect = engine.dialect.name
    sql = _RAW_INSERT.get(dialect)
    if sql is None:
        with engine.begin() as conn:
            keep(conn, [row(message, received_at)])
        return
    raw = engine.raw_connection()
    try:
        if dialect == "sqlite":  # behind the other writers in the kernel's queue, not SQLite's sleeps
            with write_gate(engine, timeout_s=wait_s):
                cursor = raw.cursor()
                cursor.execute(sql, (message.provider_id, message.channel, message.sender, message.text,
                                     message.via or None, _stored_time(dialect, received_at)))
                cursor.close()
            return
        cursor = raw.cursor()
        cursor.execute(sql, (message.provider_id, message.channel, message.sender, message.text,
                             message.via or None, _stored_time(dialect, received_at)))
        cursor.close()
        if dialect != "sqlite" and not raw.driver_connection.autocommit:
            raw.commit()
    finally:
        raw.close()


def waiting(engine: Engine, now: datetime) -> bool:
    """Is any message waiting for a worker? A plain read, no transaction, no write lock."""
    with plain_reads(engine) as conn:
        return conn.execute(_WAITING, {"now": now}).first() is not None


def claim(engine: Engine, now: datetime, lease_s: float, limit: int) -> list[Held]:
    """Lease up to `limit` of the oldest waiting messages, skipping senders another worker holds
    (their oldest waiting message is leased). Returns them in id order."""
    until = now + timedelta(seconds=lease_s)
    with write_gate(engine), engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CLAIM_LOCK})
        rows = conn.execute(_SCAN, {"now": now}).all()
        busy = {sender for _, sender, _, held in rows if held}
        taken, given_up = [], []
        for row_id, sender, attempts, _ in rows:  # a sender cut off by the limit is held by this claim's lease
            if len(taken) >= limit:
                break
            if sender in busy:
                continue
            if attempts >= MAX_ATTEMPTS:
                given_up.append(row_id)
                continue
            taken.append(row_id)
        if given_up:
            conn.execute(_GIVE_UP, {"ids": given_up})
        leased = sorted(conn.execute(_LEASE, {"ids": taken, "until": until}).all()) if taken else []
    return [Held(r.id, InboundMessage(channel=r.channel, provider_id=r.provider_id, sender=r.sender, text=r.body,
                                      via=r.via or ""), until) for r in leased]


def mark_done(conn: Connection, held: list[Held], now: datetime) -> bool:
    """In the processing transaction: mark the messages done if this worker's lease still holds
    them all (False: another worker took one over; roll back)."""
    by_lease: dict[datetime, list[int]] = {}
    for h in held:
        by_lease.setdefault(h.lease_until, []).append(h.row_id)
    for until, ids in by_lease.items():
        if conn.execute(_DONE, {"ids": ids, "until": until, "now": now}).rowcount != len(ids):
            return False
    return True


def finish(conn: Connection, done: list[tuple[Held, str | None]]) -> bool:
    """The runner's pre-commit hook: mark the round's messages done (if our lease still holds them)
    and keep each reply on its message (what a replay of the provider id is answered with)."""
    if not mark_done(conn, [held for held, _ in done], clock.now()):
        return False
    given = [{"row_id": held.row_id, "reply": reply} for held, reply in done if reply]
    if given:
        conn.execute(_REPLY, given)
    return True


def release(engine: Engine, held: list[Held]) -> None:
    """Give messages back before their lease runs out (this worker could not process them)."""
    by_lease: dict[datetime, list[int]] = {}
    for h in held:
        by_lease.setdefault(h.lease_until, []).append(h.row_id)
    with write_gate(engine), engine.begin() as conn:
        for until, ids in by_lease.items():
            conn.execute(_RELEASE, {"ids": ids, "until": until})
