"""Asking the provider about messages whose status callbacks never came.

Twilio gives up on a status callback after a few failed tries (our web app down or overloaded),
and a message would then stay `accepted` or `sent` for ever. A periodic job fetches each such
message by its sid and applies the answer exactly as the callback would have been applied.
It asks once a message has waited TIKABOT_STATUS_POLL_AFTER for its callback, or sooner when the
provider check took over a copy still on its way (tikabot.queue.recheck).

A gateway phone's reports are lost the same way when the phone is switched off, or out of signal,
right after it sent: `poll_gateway` asks the phone that carried each such message (`status`).
"""
from __future__ import annotations

import logging
import os
from datetime import timedelta

from redis.exceptions import RedisError
from sqlalchemy import or_, select
from twilio.base.exceptions import TwilioException

from tikabot.core import clock
from tikabot.handlers.twilio_sms import report_from_message
from tikabot.queue import recheck
from tikabot.queue.callbacks import apply_report
from tikabot.queue.routes.table import DEFAULT_ROUTE
from tikabot.queue.settings import SendSettings
from tikabot.core.statuses import AT_PROVIDER
from tikabot.store.models import OutboundMessage

log = logging.getLogger(__name__)
BATCH = 500


def quiet_after() -> timedelta:
    """How long a message may wait for its callback before we ask (TIKABOT_STATUS_POLL_AFTER, s)."""
    return timedelta(seconds=float(os.environ.get("TIKABOT_STATUS_POLL_AFTER") or 600))


def _at_provider():
    """SMS at Twilio (sent before routes existed, or by the twilio route) still on their way."""
    return select(OutboundMessage.id, OutboundMessage.provider_id).where(
        OutboundMessage.channel == "sms", OutboundMessage.status.in_(AT_PROVIDER),
        OutboundMessage.provider_id.is_not(None),
        or_(OutboundMessage.via.is_(None), OutboundMessage.via == DEFAULT_ROUTE))


def _at_gateway():
    """SMS handed to a gateway phone (via "android:<phone>") still on their way."""
    return select(OutboundMessage.id, OutboundMessage.provider_id, OutboundMessage.via).where(
        OutboundMessage.channel == "sms", OutboundMessage.status.in_(AT_PROVIDER),
        OutboundMessage.provider_id.is_not(None), OutboundMessage.via.like("android:%"))


async def poll_gateway(services, sender, now=None, settings: SendSettings | None = None) -> int:
    """Ask the phones about SMS whose reports have not come for TIKABOT_STATUS_POLL_AFTER, and apply
    a final answer (delivered, or failed with the phone's reason) as the webhook would have been
    applied; a phone that cannot be asked now is asked at the next pass. Returns how many changed."""
    now = now or clock.now()
    settings = settings or SendSettings.from_env()
    with services.sessions() as session:
        stuck = session.execute(_at_gateway().where(OutboundMessage.updated_at < now - quiet_after())
                                .order_by(OutboundMessage.updated_at).limit(BATCH)).all()
    changed = 0
    for message_id, provider_id, via in stuck:
        report = await sender.status(provider_id, via)
        if report is None or report.status in AT_PROVIDER:
            continue  # not asked, or still on its way: ask again next time
        with services.transaction() as session:
            outcome = apply_report(session, report, now=now, settings=settings, redis=services.redis)
        log.info("status of message %s asked of its phone: %s", message_id, outcome)
        changed += not outcome.startswith(("ignored", "unknown"))
    return changed


def _due_rechecks(services, now) -> list[int]:
    try:
        return recheck.take_due(services.redis, now)
    except RedisError:  # their quiet time still applies
        return []


def poll_stuck(services, client, now=None, settings: SendSettings | None = None) -> int:
    """Fetch and apply the status of SMS stuck in `accepted`/`sent` past their quiet time, or
    due for a recheck (tikabot.queue.recheck); returns how many changed."""
    now = now or clock.now()
    settings = settings or SendSettings.from_env()
    rechecks = _due_rechecks(services, now)
    with services.sessions() as session:
        stuck = session.execute(_at_provider().where(OutboundMessage.updated_at < now - quiet_after())
                                .order_by(OutboundMessage.updated_at).limit(BATCH)).all()
        if rechecks:
            seen = {message_id for message_id, _ in stuck}
            stuck += [row for row in session.execute(_at_provider().where(OutboundMessage.id.in_(rechecks)))
                      if row.id not in seen]
    changed = 0
    for message_id, sid in stuck:
        try:
            report = report_from_message(client.messages(sid).fetch())
        except TwilioException as exc:
            log.warning("status of message %s could not be fetched: %s", message_id, exc)
            if message_id in rechecks:  # ask again at the next pass
                recheck.ask_soon(services.redis, [message_id], now)
            continue
        if report.status == "sent" and not report.error_code:
            continue  # still on its way: ask again next time
        with services.transaction() as session:
            outcome = apply_report(session, report, now=now, settings=settings, redis=services.redis)
        changed += not outcome.startswith(("ignored", "unknown"))
    return changed
