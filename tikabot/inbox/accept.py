"""accept(services, message): the one call every inbound webhook makes once it has verified and
translated a request. It makes the message durable and returns; workers do the rest
(tikabot/inbox/worker.py) and the reply goes out through the outbox on the route the message came
in on (`message.via`).

Durable means: one INSERT into the inbox, committed (a provider id kept before is skipped, so a
replay changes nothing); or, when the database cannot take it within WAIT_S (locked by a long
writer, stopped, unreachable), one fsync'd line in this machine's spool (spool.py), moved into the
inbox in order as soon as the database takes writes again. Only when neither can keep it does
accept raise Unavailable, and the webhook answers 503 so the provider tries again.

While the spool holds messages, new ones are spooled too, behind them: a sender's messages reach
the inbox in the order they came.

What the database could never hold is dealt with before the INSERT (storable.py): a NUL or a lone
surrogate in the text is replaced, an id or sender it cannot keep is refused (Unstorable: the
webhook answers 400). A spool line the database still refuses on its own is set aside
(spool.py's dead-letter file), counted in /metrics, and coordinators are alerted once a day; the
lines behind it go on into the inbox.
"""
from __future__ import annotations

import logging
import threading
from typing import Callable

from sqlalchemy import event
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError, StatementError

from tikabot.core import clock
from tikabot.alerts.coordinators import alert_spool_set_aside
from tikabot.inbox import store
from tikabot.inbox.storable import Unstorable, storable, storable_row
from tikabot.inbox.spool import Spool, record, spool_folder
from tikabot.core.phones import mask
from tikabot.store.gate import GateTimeout
from tikabot.core.message import InboundMessage
from tikabot.store.db import make_engine

log = logging.getLogger(__name__)
WAIT_S = 1.0  # how long the INSERT may wait for the database before the spool takes the message
DRAIN_EVERY_S = 0.5
STUCK_AFTER = 5  # drains failing in a row before readiness says the spool is not draining


class Unavailable(RuntimeError):
    """The message could not be kept anywhere: the webhook answers 503 so the provider retries."""


class Inbox:
    """A process's way into the inbox: an engine whose statements wait at most WAIT_S, the spool,
    and a thread that drains the spool while it holds anything."""

    def __init__(self, config):
        self.engine = make_engine(config.database_url, wait_s=WAIT_S)
        if self.engine.dialect.name == "postgresql":  # the INSERT is its own transaction: one round trip
            event.listen(self.engine, "connect", _autocommit)
        folder = spool_folder(config)
        self.spool = Spool(folder) if folder is not None else None
        self._drainer: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.failed_drains = 0  # in a row, in this process
        self.on_set_aside: Callable[[int], None] | None = None  # told how many lines are set aside in all
        self._alerted = 0

    def keep(self, message: InboundMessage) -> str:
        """Make the message durable; returns where ("inbox" or "spool"). Raises Unavailable, or
        Unstorable for a message no database could keep as it is."""
        message = storable(message)
        now = clock.now()
        if self.spool is not None and self.spool.backlog():
            return self._spool(message, now)
        try:
            store.keep_one(self.engine, message, now, WAIT_S)
            return "inbox"
        except (SQLAlchemyError, GateTimeout, self.engine.dialect.loaded_dbapi.Error) as exc:
            if self.spool is None:
                raise Unavailable(f"database: {type(exc).__name__}") from exc
            log.warning("database did not take the message from %s at once (%s); spooling it",
                        mask(message.sender), type(exc).__name__)
            return self._spool(message, now)

    def _spool(self, message: InboundMessage, now) -> str:
        try:
            self.spool.append(record(message.provider_id, message.channel, message.sender, message.text,
                                     message.via, now))
        except OSError as exc:
            raise Unavailable(f"spool: {exc}") from exc
        self.start_drainer()
        return "spool"

    def drain(self) -> int:
        """Move the spool into the inbox now (raises while the database still cannot take it)."""
        if self.spool is None:
            return 0
        try:
            moved = self.spool.drain(self._insert, self._refused)
        except Exception:
            self.failed_drains += 1
            raise
        self.failed_drains = 0
        self._tell_set_aside()
        return moved

    def _insert(self, rows: list[dict]) -> None:
        rows = [storable_row(row) for row in rows]
        with self.engine.begin() as conn:
            store.keep(conn, rows)

    def _refused(self, exc: BaseException) -> bool:
        """The database (or storable) refuses this line's content, not for want of being up."""
        dbapi = self.engine.dialect.loaded_dbapi
        if isinstance(exc, StatementError) and not isinstance(exc, (DataError, IntegrityError)):
            exc = exc.orig if exc.orig is not None else exc
        return isinstance(exc, (Unstorable, ValueError, TypeError, ArithmeticError, DataError, IntegrityError,
                                dbapi.DataError, dbapi.IntegrityError))

    def _tell_set_aside(self) -> None:
        count = self.spool.set_aside_count()
        if count > self._alerted and self.on_set_aside is not None:
            try:
                self.on_set_aside(count)
                self._alerted = count
            except Exception:
                log.exception("spool: coordinators not yet alerted about set-aside messages; trying again")

    def not_draining(self, now, stale_s: float) -> str | None:
        """Why the spool is not draining (its oldest message waited longer than stale_s, or the
        drain keeps failing), or None."""
        if self.spool is None:
            return None
        age = self.spool.oldest_age_s(now)
        if age is not None and age > stale_s:
            return f"oldest spooled message waiting {age:.0f} s"
        if self.failed_drains >= STUCK_AFTER:
            return f"spool drain failed {self.failed_drains} times in a row"
        return None

    def start_drainer(self) -> None:
        with self._lock:
            if self._drainer is None or not self._drainer.is_alive():
                self._drainer = threading.Thread(target=self._drain_forever, daemon=True, name="spool-drain")
                self._drainer.start()

    def _drain_forever(self) -> None:
        while not self._stop.wait(DRAIN_EVERY_S):
            try:
                self.drain()
            except (SQLAlchemyError, GateTimeout, self.engine.dialect.loaded_dbapi.Error) as exc:  # still unavailable: try again shortly
                level = logging.WARNING if self.failed_drains % 20 == 1 else logging.DEBUG
                log.log(level, "spool not drained yet (%d tries): %s", self.failed_drains, type(exc).__name__)
            except Exception:
                log.exception("spool drain failed; retrying")
            if self.spool is not None and not self.spool.backlog():
                return

    def close(self) -> None:
        self._stop.set()
        if self._drainer is not None:
            self._drainer.join(5)
        self.engine.dispose()


def _autocommit(dbapi_conn, _record) -> None:
    dbapi_conn.autocommit = True


def inbox_of(services) -> Inbox:
    """The process's Inbox for these services, made on first use."""
    inbox = services.inbox
    if inbox is None:
        inbox = services.inbox = new_inbox(services)
        if inbox.spool is not None and inbox.spool.backlog():  # left by an earlier process
            inbox.start_drainer()
    return inbox


def new_inbox(services) -> Inbox:
    """An Inbox for these services whose set-aside lines alert the coordinators (no drainer yet)."""
    inbox = Inbox(services.config)
    inbox.on_set_aside = lambda count: _alert_set_aside(services, count)
    return inbox


def _alert_set_aside(services, count: int) -> None:
    with services.transaction() as session:
        alert_spool_set_aside(session, count, clock.now(), services.config.tz)


def accept(services, message: InboundMessage) -> None:
    """Keep the message (inbox or spool) before the webhook answers; raises Unavailable if neither can."""
    inbox_of(services).keep(message)
    return None
