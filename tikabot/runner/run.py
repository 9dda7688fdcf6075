"""One inbound message, end to end: dedupe, identify, lock, state, pure step, effects, reply.

Everything for one message is written in one database transaction: the InboundMessage row (with
the reply, for replays), the domain effects and the outbox rows. Conversation state is saved to
Redis only after that commit, so a failed transaction leaves the conversation where it was.
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tikabot import clock
from tikabot.flows import beneficiary as ben_flow
from tikabot.flows import staff as staff_flow
from tikabot.flows.effects import Reply
from tikabot.flows.parse import parse
from tikabot.phones import mask
from tikabot.runner import guards
from tikabot.runner.apply import Context, apply_effects
from tikabot.runner.load import active_staff, sender_facts, staff_facts
from tikabot.runner.message import InboundMessage, RunResult
from tikabot.runner.render import language, render_replies
from tikabot.store.models import InboundMessage as InboundRow

log = logging.getLogger(__name__)


def _stored(session, provider_id: str) -> InboundRow | None:
    return session.scalar(select(InboundRow).where(InboundRow.provider_id == provider_id))


def handle(services, message: InboundMessage, now: datetime | None = None) -> RunResult:
    """Handle one message; the same provider id again returns the stored reply and does nothing."""
    if services.redis is None:
        raise RuntimeError("the conversation runner needs Redis (REDIS_URL)")
    now = now or clock.now()
    with guards.sender_lock(services.redis, message.sender):
        try:
            return _handle_locked(services, message, now)
        except IntegrityError:  # the same provider id committed by another process meanwhile
            with services.sessions() as session:
                row = _stored(session, message.provider_id)
            if row is None:
                raise
            return RunResult(reply=row.reply, duplicate=True)


def _handle_locked(services, message: InboundMessage, now: datetime) -> RunResult:
    config, redis = services.config, services.redis
    new_state, is_staff = None, False
    with services.transaction() as session:
        row = _stored(session, message.provider_id)
        if row is not None:
            return RunResult(reply=row.reply, duplicate=True)
        inbound = InboundRow(provider_id=message.provider_id, channel=message.channel, sender=message.sender,
                             body=message.text, received_at=now)
        session.add(inbound)
        session.flush()
        staff = active_staff(session, message.sender)
        is_staff = staff is not None
        over = guards.messages_over_limit(redis, message.sender, "staff" if is_staff else "public")
        ctx = Context(actor=message.sender, source=message.channel, key=message.provider_id, now=now,
                      tz=config.tz, otp_secret=config.otp_secret)
        if over:
            log.info("rate limit: %s sent %d over", mask(message.sender), over)
            reply = _rate_limited_reply(staff, over)
        elif is_staff:
            state = guards.load_state(redis, message.sender)
            new_state, reply = _staff_step(session, staff, state, message.text, ctx)
        else:
            reply = _public_step(session, message, ctx)
            if reply is not None and not guards.may_auto_reply(redis, message.sender):
                log.info("loop guard: no reply to %s", mask(message.sender))
                reply = None
        inbound.reply = reply
    if is_staff and not over:
        guards.save_state(redis, message.sender, new_state)
    return RunResult(reply=reply, staff=is_staff)


def _rate_limited_reply(staff, over: int) -> str | None:
    if staff is None or over > 1:
        return None  # tell staff once; say nothing to anyone else (no loops)
    return render_replies([Reply("staff.rate_limited")], language(staff.language))


def _staff_step(session, staff, state: dict | None, text: str, ctx: Context) -> tuple[dict | None, str | None]:
    keyword = parse(text).keyword
    ref = staff_flow.wanted_ref(state, text, ctx.now)
    if keyword is None and not state:
        keyword = "HELP"  # nothing to load for a message the flow will not understand
    facts = staff_facts(session, staff, keyword=keyword, ref=ref, now=ctx.now, tz=ctx.tz)
    new_state, replies, effects = staff_flow.step(state, text, facts, ctx.now)
    replies = apply_effects(session, effects, ctx) or replies
    return new_state, render_replies(replies, language(staff.language))


def _public_step(session, message: InboundMessage, ctx: Context) -> str | None:
    facts = sender_facts(session, message.sender, message.text, now=ctx.now, tz=ctx.tz)
    _, replies, effects = ben_flow.step(None, message.text, facts, ctx.now)
    replies = apply_effects(session, effects, ctx) or replies
    return render_replies(replies, language(facts.language))
