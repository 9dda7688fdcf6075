"""One inbound message, end to end: dedupe, identify, lock, state, pure step, effects, reply.

Two phases, under the sender's Redis lock:

1. read: with plain reads (no transaction, no write lock), identify the sender and load the facts the
   command needs (the sender's site and its session, the beneficiary and their doses);
2. write: in one database transaction, count the site's doses today (it changes with every other
   vaccinator's message, so it is read under the write lock and "Today: N" stays exact), run the
   pure flow step, apply its effects, write the InboundMessage row with the rendered reply (for
   replays) and the outbox rows, commit.

Only phase 2 holds the database's write lock, so web workers decide in parallel and queue only for
the few statements that write. The guarantees do not rest on the snapshot: a replayed provider id
is refused by the unique InboundMessage.provider_id (the whole transaction rolls back, nothing it
did remains, and the stored reply is returned; replays are rare, so a staff message is not looked
up first, while a beneficiary's is, before the loop guard counts a reply), a dose by the unique
(beneficiary, dose number), and messages from one sender never overlap (the lock). Conversation state is saved to Redis only after the commit, so a failed
transaction leaves the conversation where it was.

Redis is asked twice per message: guards.enter (lock + rate count + state) and guards.leave (new
state + the committed outbox ids onto their ready list + unlock). An OTP is queued as a job at
once, after the commit, in a round trip of its own.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError

from tikabot import clock
from tikabot.flows import beneficiary as ben_flow
from tikabot.flows import staff as staff_flow
from tikabot.flows.effects import Reply
from tikabot.flows.facts import SenderFacts, StaffFacts
from tikabot.flows.parse import parse
from tikabot.phones import mask
from tikabot.queue.dispatch import hand_off, split
from tikabot.queue.outbox import DISPATCH_KEY
from tikabot.runner import guards, probes
from tikabot.runner.apply import Context, apply_effects
from tikabot.runner.gate import lock_site, write_gate
from tikabot.runner.load import NEEDS, identify_staff, needs_tally, sender_facts, with_tally
from tikabot.runner.message import InboundMessage, RunResult
from tikabot.runner.render import language, render_replies
from tikabot.store.db import plain_reads
from tikabot.store.models import InboundMessage as InboundRow

log = logging.getLogger(__name__)
INBOUND = InboundRow.__table__
_STORED = select(INBOUND.c.reply).where(INBOUND.c.provider_id == bindparam("provider_id"))
_RECORD = insert(INBOUND)


def _stored(conn, provider_id: str):
    """The row of a message handled before (its reply), or None."""
    return conn.execute(_STORED, {"provider_id": provider_id}).first()


@dataclass
class Found:
    """What phase 1 read: who sent it and what the flow may know."""
    staff: StaffFacts | None = None
    sender: SenderFacts | None = None
    over: int = 0  # messages over the sender's rate limit
    tally: bool = False  # the staff command needs the site's count: read it in phase 2
    replay: RunResult | None = None  # a beneficiary's message handled before: its stored reply
    paused: int = 0  # the staff phone's checks are paused (runner/probes.py) for this many minutes


def handle(services, message: InboundMessage, now: datetime | None = None) -> RunResult:
    """Handle one message; the same provider id again returns the stored reply and does nothing."""
    if services.redis is None:
        raise RuntimeError("the conversation runner needs Redis (REDIS_URL)")
    now = now or clock.now()
    entry = guards.enter(services.redis, message.sender)
    new_state, result, ready = guards.KEEP, None, None
    try:
        found = _read(services, message, now, entry)
        if found.replay is not None:
            result = found.replay
        else:
            result, new_state, ready = _write_once(services, message, now, entry, found)
    finally:  # a replay is not a new message: take back its count
        guards.leave(services.redis, entry, new_state, uncount=result is not None and result.duplicate, ready=ready)
    return result


def _write_once(services, message: InboundMessage, now: datetime, entry: guards.Entry, found: Found):
    """Phase 2, or the stored reply when this provider id was committed before (nothing of this
    attempt remains). Returns (result, new state or guards.KEEP, ready ids for guards.leave)."""
    try:
        result, new_state, queued = _write(services, message, now, entry, found)
    except IntegrityError:
        with services.engine.connect() as conn:
            row = _stored(conn, message.provider_id)
        if row is None:
            raise
        return RunResult(reply=row.reply, duplicate=True), guards.KEEP, None
    return result, new_state, _hand_off(services.redis, queued)


def _hand_off(redis, queued: list) -> tuple[str, list[int]] | None:
    """Queue OTPs now; return the one ready list and its ids for guards.leave to push."""
    otps, ready = split(queued)
    if otps or len(ready) > 1:  # not the DOSE path: hand everything off the ordinary way
        try:
            hand_off(redis, queued)
        except Exception:  # Redis down: the outbox relay re-queues from the database
            log.warning("could not queue %d messages; the relay will", len(queued))
        return None
    return next(iter(ready.items()), None)


def _read(services, message: InboundMessage, now: datetime, entry: guards.Entry) -> Found:
    """Phase 1, reads only: sender, facts."""
    tz = services.config.tz
    with plain_reads(services.engine) as conn:
        keyword = parse(message.text).keyword
        ref = staff_flow.wanted_ref(entry.state, message.text, now)
        if keyword is None and not entry.state:
            keyword = "HELP"  # nothing to load for a message the flow will not understand
        staff = identify_staff(conn, message.sender, keyword=keyword, ref=ref, now=now, tz=tz, tally=False)
        over = guards.over_limit(entry.count, "staff" if staff is not None else "public")
        if over:
            log.info("rate limit: %s sent %d over", mask(message.sender), over)
            return Found(staff=staff, over=over)
        if staff is not None:
            unknown_ref = ref is not None and staff.beneficiary is None and "beneficiary" in NEEDS.get(keyword, ())
            probing = keyword in probes.PROBING_KEYWORDS or unknown_ref
            paused = probes.paused_minutes(services.redis, message.sender, now) if probing else 0
            return Found(staff=staff, tally=needs_tally(keyword), paused=paused)
        stored = _stored(conn, message.provider_id)  # before the loop guard counts a reply that was sent
        if stored is not None:
            return Found(replay=RunResult(reply=stored.reply, duplicate=True))
        return Found(sender=sender_facts(conn, message.sender, message.text, now=now, tz=tz))


def _write(services, message: InboundMessage, now: datetime, entry: guards.Entry, found: Found):
    """Phase 2, one transaction: the pure step, effects, the inbound row with its reply, outbox rows.
    Returns (result, new conversation state or guards.KEEP, committed outbox (id, priority) pairs)."""
    config = services.config
    ctx = Context(actor=message.sender, source=message.channel, key=message.provider_id, now=now,
                  tz=config.tz, otp_secret=config.otp_secret, medical_officers=config.medical_officers,
                  telegram=bool(config.telegram_bot_token))
    queued: list = []
    new_state = guards.KEEP
    with write_gate(services.engine):
        with services.transaction() as session:
            if session.info.get(DISPATCH_KEY) is not None:  # hand off after the commit, in guards.leave
                session.info[DISPATCH_KEY] = queued.extend
            if found.over:
                reply = _rate_limited_reply(found.staff, found.over)
            elif found.paused:
                reply = render_replies([Reply("staff.probe_locked", {"minutes": found.paused})],
                                       language(found.staff.language))
            elif found.staff is not None:
                if found.tally and found.staff.site_id:
                    lock_site(session, found.staff.site_id)
                facts = with_tally(session, found.staff, config.tz) if found.tally else found.staff
                new_state, replies, effects = staff_flow.step(entry.state, message.text, facts, now)
                replies = apply_effects(session, effects, ctx) or replies
                replies = _count_guesses(services.redis, session, facts, replies, now)
                reply = render_replies(replies, language(facts.language))
            else:
                _, replies, effects = ben_flow.step(None, message.text, found.sender, now)
                replies = apply_effects(session, effects, ctx) or replies
                reply = _guarded(services.redis, message.sender,
                                 render_replies(replies, language(found.sender.language)),
                                 language(found.sender.language))
            session.connection().execute(_RECORD, {
                "provider_id": message.provider_id, "channel": message.channel, "sender": message.sender,
                "body": message.text, "reply": reply, "received_at": now})
    return RunResult(reply=reply), new_state, queued


def _guarded(redis, sender: str, reply: str | None, lang: str) -> str | None:
    """The loop guard: no reply past the limit, and the last one allowed says why none follow."""
    if reply is None:
        return None
    number = guards.auto_reply_number(redis, sender)
    limit, window = guards.AUTO_REPLIES
    if number > limit:
        log.info("loop guard: no reply to %s", mask(sender))
        return None
    if number == limit:
        return "\n".join((reply, render_replies([Reply("ben.auto_reply_pause", {"minutes": window // 60})], lang)))
    return reply


def _count_guesses(redis, session, facts: StaffFacts, replies: list[Reply], now: datetime) -> list[Reply]:
    """Count the staff phone's failed guesses; the reply that starts a pause says so."""
    failures = probes.failures_in(replies)
    if not failures:
        return replies
    counted = probes.count_failures(redis, facts.phone, failures, now)
    if not counted.new_pause:
        return replies
    log.warning("guessing: checks from %s paused for %d minutes", mask(facts.phone), counted.paused_minutes)
    probes.alert_pause(session, phone=facts.phone, site=facts.site_name, minutes=counted.paused_minutes, now=now)
    return [Reply("staff.probe_locked", {"minutes": counted.paused_minutes})]


def _rate_limited_reply(staff: StaffFacts | None, over: int) -> str | None:
    if staff is None or over > 1:
        return None  # tell staff once; say nothing to anyone else (no loops)
    return render_replies([Reply("staff.rate_limited")], language(staff.language))
