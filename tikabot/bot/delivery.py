"""What became of messages a coordinator sent (a broadcast) or sent again (/retry): the bot watches
them until each is final, or WATCH_FOR_S has passed, and then says so in the same chat."""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from tikabot.bot.deps import BotDeps
from tikabot.bot.failures import reason_of
from tikabot.i18n.catalog import render
from tikabot.core.phones import mask
from tikabot.core.statuses import TERMINAL
from tikabot.store.models import Beneficiary, OutboundMessage, Staff

WATCH_EVERY_S = 3.0
STOP_SEEN_S = 0.1  # how soon a wait notices the bot stopping
WATCH_FOR_S = 600.0
MAX_NAMED = 8

log = logging.getLogger(__name__)


@dataclass
class Delivery:
    delivered: int = 0
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # (name, phone, reason)
    not_sent: int = 0  # closed unsent: too late, or the person opted out
    waiting: int = 0


def delivery(session: Session, ids: list[int]) -> Delivery:
    found = Delivery()
    names = {p.phone: p.name for p in session.scalars(select(Staff))}
    rows = session.execute(select(OutboundMessage, Beneficiary.name).outerjoin(
        Beneficiary, OutboundMessage.beneficiary_id == Beneficiary.id).where(OutboundMessage.id.in_(ids)))
    for message, person in rows:
        if message.status == "delivered":
            found.delivered += 1
        elif message.status == "failed":
            found.failed.append((person or names.get(message.recipient, "?"), message.recipient,
                                 reason_of(message.last_error_code, message.channel)))
        elif message.status in TERMINAL:
            found.not_sent += 1
        else:
            found.waiting += 1
    return found


def delivery_text(what: str, d: Delivery, lang: str) -> str:
    lines = [render("bot.delivery_report", lang, what=render(what, lang), delivered=d.delivered,
                    failed=len(d.failed), waiting=d.waiting, skipped=d.not_sent)]
    for name, phone, reason in d.failed[:MAX_NAMED]:
        lines.append(render("bot.delivery_failed_person", lang, name=name, phone=mask(phone),
                            reason=render(f"bot.reason_{reason}", lang)))
    if len(d.failed) > MAX_NAMED:
        lines.append(render("bot.and_more", lang, count=len(d.failed) - MAX_NAMED).strip())
    return "\n".join(lines)


async def report_when_settled(application, chat_id: int, deps: BotDeps, ids: list[int], what: str,
                              lang: str) -> None:
    """Wait (never blocking the bot) until every message is final, then tell the chat. The bot
    stopping ends the wait at once (Application.stop awaits this task): it says what it knows."""
    deadline = time.monotonic() + WATCH_FOR_S
    while True:
        found = await deps.db(lambda s: delivery(s, ids))
        if not found.waiting or time.monotonic() >= deadline or not application.running:
            break
        await _pause(application, WATCH_EVERY_S)
    bot = application.bot
    try:
        await bot.send_message(chat_id, delivery_text(what, found, lang))
    except Exception:  # the Bot API is failing: the coordinator can still ask /failed
        log.warning("could not report the delivery of %d messages", len(ids))


async def _pause(application, seconds: float) -> None:
    """Sleep `seconds`, or less once the bot stops: Application.stop waits for this task, and a bot
    asked to stop (systemd's SIGTERM) should not wait out a whole pause."""
    until = time.monotonic() + seconds
    while application.running and time.monotonic() < until:
        await asyncio.sleep(min(STOP_SEEN_S, max(0.0, until - time.monotonic())))


def watch(context, chat_id: int, deps: BotDeps, ids: list[int], what: str, lang: str) -> None:
    if ids:
        context.application.create_task(report_when_settled(context.application, chat_id, deps, ids, what, lang))
