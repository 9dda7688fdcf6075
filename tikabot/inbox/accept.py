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
"""
from __future__ import annotations

import logging
import threading

from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError

from tikabot import clock
from tikabot.inbox import store
from tikabot.inbox.spool import Spool, record, spool_folder
from tikabot.phones import mask
from tikabot.runner.gate import GateTimeout
from tikabot.runner.message import InboundMessage
from tikabot.store.db import make_engine

log = logging.getLogger(__name__)
WAIT_S = 1.0  # how long the INSERT may wait for the database before the spool takes the message
DRAIN_EVERY_S = 0.5


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

    def keep(self, message: InboundMessage) -> str:
        """Make the message durable; returns where ("inbox" or "spool"). Raises Unavailable."""
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
        return self.spool.drain(self._insert)

    def _insert(self, rows: list[dict]) -> None:
        with self.engine.begin() as conn:
            store.keep(conn, rows)

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
                log.info("spool not drained yet: %s", type(exc).__name__)
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
        inbox = services.inbox = Inbox(services.config)
        if inbox.spool is not None and inbox.spool.backlog():  # left by an earlier process
            inbox.start_drainer()
    return inbox


def accept(services, message: InboundMessage) -> None:
    """Keep the message (inbox or spool) before the webhook answers; raises Unavailable if neither can."""
    inbox_of(services).keep(message)
    return None
