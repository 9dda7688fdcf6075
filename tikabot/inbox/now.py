"""handle(services, message): keep one message in the inbox and process it at once, in this process.

For tools and tests that want a message's reply in hand (the webhook never does this: it only keeps
the message, and the inbox worker processes it). The same provider id again returns the stored
reply and does nothing.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from tikabot.core import clock
from tikabot.inbox import store
from tikabot.core.message import Held, InboundMessage, RunResult
from tikabot.runner.run import process
from tikabot.store.gate import write_gate

LEASE_S = 60


def handle(services, message: InboundMessage, now: datetime | None = None) -> RunResult:
    until = clock.now() + timedelta(seconds=LEASE_S)
    with write_gate(services.engine), services.engine.begin() as conn:
        store.keep(conn, [store.row(message, clock.now())])
        found = conn.execute(select(store.INBOX.c.id, store.INBOX.c.status, store.INBOX.c.reply)
                             .where(store.INBOX.c.provider_id == message.provider_id)).one()
        if found.status != "new":
            return RunResult(reply=found.reply, duplicate=True)
        conn.execute(store.INBOX.update().where(store.INBOX.c.id == found.id).values(lease_until=until))
    held = Held(found.id, message, until)
    return process(services, [held], now, pre_commit=store.finish)[0]
