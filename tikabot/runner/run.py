"""Inbox messages, processed: parse once, load facts, pure step, effects and reply in one transaction.

The inbox worker (tikabot/inbox/worker.py) hands `process` the messages it claimed. They are
processed in rounds: a round takes the next message of every sender in the claim, so a sender's
messages go one after the other, in arrival order, while many senders share each transaction.
A round:

1. Redis, one round trip: count each message in its sender's rate window, read each sender's
   conversation state (guards.begin_round);
2. reads, no transaction: parse each message once into a command and load the facts that command
   needs (the sender and their site's session, the beneficiary and their doses);
3. one database transaction for the round, in Mailroom's two phases (named hooks, run by the
   transaction's unit: store/phases.py lists them all):
   - inside the transaction: the site's count of doses today read under the write lock, the pure
     flow step, its effects, the reply as an outbox row on the message's channel and route
     (`via`), lane "reply"; then the pre-commit hooks "mark appointments done" and "write outbox
     rows" (the round's in one statement each) and, last, "mark inbox messages done" (the inbox
     marks the messages done if its lease still holds them: else the round rolls back, nothing of
     it remains);
   - post-commit: "save conversation states" (the senders' new states) and the outbox's own
     "queue sends" (the committed replies, confirmations and OTPs, OTPs as jobs at once) go to
     Redis in one round trip. If Redis fails here, the outbox relay re-queues the messages from
     the database.

Rate limits and the loop guard only withhold automatic replies: every message is stepped and its
effects applied, so a STOP, START, LANG, YES/NO or a staff report is never dropped.

The guarantees do not rest on the reads of phase 2: a dose is unique on (beneficiary, dose number),
an outbox row on its key (the reply's is `reply-<provider id>`), and a message is marked done only
in the transaction that applied it.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from tikabot.core import clock
from tikabot.core.clock import local_date
from tikabot.flows import beneficiary as ben_flow
from tikabot.flows import staff as staff_flow
from tikabot.flows.effects import Reply
from tikabot.flows.facts import SenderFacts, StaffFacts
from tikabot.flows.parse import Parsed, parse
from tikabot.flows.report_via import allows
from tikabot.core.phones import can_receive_sms, mask
from tikabot.outbox.messages import batched, insert_message
from tikabot.runner import guards, probes
from tikabot.runner.apply import Context, apply_effects, batched_appointments, unsent_reminders
from tikabot.store.gate import write_gate
from tikabot.runner.load import NEEDS, identify_staff, needs_tally, round_facts, sender_facts
from tikabot.runner.tally import RoundTally
from tikabot.core.message import Held, InboundMessage, RunResult
from tikabot.runner.render import language, render_replies
from tikabot.store import phases
from tikabot.store.db import plain_reads
from tikabot.store.models import AuditLog

log = logging.getLogger(__name__)
REPLY_LANE = "reply"
PreCommit = Callable[[object, list[tuple[Held, str | None]]], bool]  # (connection, [(message, reply)]) -> keep?


class LeaseLost(RuntimeError):
    """Another worker took over a message of this round (our lease ran out): nothing was kept."""


@dataclass
class Work:
    """One message on its way through a round."""
    held: Held
    parsed: Parsed
    count: int = 0  # this message's number in its sender's rate window
    state: dict | None = None  # the sender's conversation state before it
    staff: StaffFacts | None = None
    sender: SenderFacts | None = None
    over: int = 0  # messages over the sender's rate limit: the reply is withheld
    tally: bool = False  # the staff command needs the site's count: read it in the transaction
    paused: int = 0  # the staff phone's checks are paused (runner/probes.py) for this many minutes
    wrong_route: bool = False  # staff, through a route they are not bound to (report_via): refused
    new_state: object = guards.KEEP
    reply: str | None = None


@dataclass
class Round:
    works: list[Work]


ROUND = 50  # messages per transaction: on SQLite a round holds the write lock, and webhooks wait for it


def rounds(held: list[Held], size: int = ROUND) -> list[list[Held]]:
    """Round k holds the k-th message of each sender (held is in arrival order), cut into rounds
    of at most `size`."""
    layers: list[list[Held]] = []
    seen: dict[str, int] = {}
    for h in held:
        k = seen.get(h.message.sender, 0)
        seen[h.message.sender] = k + 1
        if k == len(layers):
            layers.append([])
        layers[k].append(h)
    return [layer[start:start + size] for layer in layers for start in range(0, len(layer), size)]


def process(services, held: list[Held], now: datetime | None = None,
            pre_commit: PreCommit | None = None) -> list[RunResult]:
    """Process claimed messages, round after round; the results in the order of `held`.
    Raises on the first round that fails (the rounds before it are committed)."""
    if services.redis is None:
        raise RuntimeError("the conversation runner needs Redis (REDIS_URL)")
    results: dict[int, RunResult] = {}
    for batch in rounds(held):
        for work in process_round(services, batch, now or clock.now(), pre_commit):
            results[work.held.row_id] = RunResult(reply=work.reply)
    return [results[h.row_id] for h in held]


def process_round(services, batch: list[Held], now: datetime, pre_commit: PreCommit | None = None) -> list[Work]:
    works = [Work(h, parse(h.message.text)) for h in batch]
    for work, (count, state) in zip(works, guards.begin_round(services.redis, [h.message.sender for h in batch])):
        work.count, work.state = count, state
    _read(services, works, now)
    step = Round(works)
    with write_gate(services.engine):
        with services.transaction() as session:
            with batched(session), batched_appointments(session):  # the round's outbox rows: one INSERT
                _pre_commit(services, session, step, now)
            phases.attach(session, guards.SAVE_STATES, [(w.held.message.sender, w.new_state) for w in works
                                                        if w.new_state is not guards.KEEP])
            if pre_commit is not None:
                phases.attach(session, _marking_done(pre_commit), [(w.held, w.reply) for w in works])
    return works


def _marking_done(pre_commit: PreCommit) -> phases.Hook:
    """The pre-commit hook "mark inbox messages done", run last: the caller's check that its lease
    still holds the round's messages (it marks them done); if not, the round rolls back."""
    def mark(session, done: list[tuple[Held, str | None]]) -> None:
        if not pre_commit(session.connection(), done):
            raise LeaseLost(f"{len(done)} messages")
    return phases.Hook("mark inbox messages done", phases.PRE, mark)


def _read(services, works: list[Work], now: datetime) -> None:
    """Phase 1, reads only: who sent each message and the facts its command needs."""
    tz = services.config.tz
    asked = []
    for work in works:
        keyword, ref = work.parsed.keyword, staff_flow.wanted_ref(work.state, work.parsed, now)
        if keyword is None and not work.state:
            keyword = "HELP"  # nothing to load for a message the flow will not understand
        asked.append((keyword, ref))
    with plain_reads(services.engine) as conn:
        known = round_facts(conn, [w.held.message.sender for w in works],
                            [ref for keyword, ref in asked if ref and "beneficiary" in NEEDS.get(keyword, ())],
                            now=now, tz=tz)
        for work, (keyword, ref) in zip(works, asked):
            message = work.held.message
            work.staff = identify_staff(conn, message.sender, keyword=keyword, ref=ref, now=now, tz=tz, tally=False,
                                        known=known)
            work.over = guards.over_limit(work.count, "staff" if work.staff is not None else "public")
            if work.over:
                log.info("rate limit: %s sent %d over; applied, reply withheld", mask(message.sender), work.over)
            if work.staff is not None and not allows(work.staff.report_via, message.via):
                work.wrong_route = True
                log.warning("refused: staff %s through %s, bound to %s; nothing recorded",
                            mask(message.sender), message.via or "an unnamed route", work.staff.report_via)
            elif work.staff is not None:
                unknown_ref = ref is not None and work.staff.beneficiary is None and "beneficiary" in NEEDS.get(keyword, ())
                probing = keyword in probes.PROBING_KEYWORDS or unknown_ref
                work.paused = probes.paused_minutes(services.redis, message.sender, now) if probing else 0
                work.tally = needs_tally(keyword)
            else:
                work.sender = sender_facts(conn, message.sender, message.text, now=now, tz=tz)


def _pre_commit(services, session, step: Round, now: datetime) -> None:
    """The work inside the transaction: each message's step, effects and reply (an outbox row).
    First, for the whole round: the sites' counts (under their locks) and which of the reports'
    beneficiaries have appointment messages a dose may withdraw."""
    config = services.config
    stepped = [w for w in step.works if w.staff is not None and not w.paused and not w.wrong_route]
    tally = RoundTally(session, [w.staff.site_id for w in stepped if w.tally and w.staff.site_id],
                       local_date(now, config.tz), config.tz)
    with_unsent = unsent_reminders(session, [w.staff.beneficiary.id for w in stepped if w.staff.beneficiary])
    for work in step.works:
        message = work.held.message
        ctx = Context(actor=message.sender, source=message.channel, key=message.provider_id, now=now,
                      tz=config.tz, otp_secret=config.otp_secret, medical_officers=config.medical_officers,
                      telegram=bool(config.telegram_bot_token), with_unsent=with_unsent)
        replies, lang = _step(services, session, work, ctx, tally)
        work.reply = render_replies(replies, lang) if replies else None
        if work.over:
            work.reply = _rate_limited_reply(work.staff, work.over)
            replies = [Reply("staff.rate_limited")] if work.reply else []
        elif work.sender is not None and work.reply is not None:
            work.reply = _guarded(services.redis, message.sender, work.reply, lang)
        if work.reply and not can_receive_sms(message.sender):
            _record_withheld(session, message, replies[0].key, now)
            work.reply = None
        if work.reply:
            insert_message(session, key=f"reply-{message.provider_id}", recipient=message.sender,
                           template=replies[0].key, language=lang, body=work.reply, priority=REPLY_LANE,
                           channel=message.channel, via=message.via or None,
                           beneficiary_id=work.sender.beneficiary.id if work.sender and work.sender.beneficiary else None)


def _step(services, session, work: Work, ctx: Context, tally: RoundTally) -> tuple[list[Reply], str]:
    """The pure step for the message and its effects; (replies, their language)."""
    now = ctx.now
    if work.staff is not None:
        lang = language(work.staff.language)
        if work.wrong_route:  # a key that speaks for another phone: nothing is stepped or applied
            return [Reply("staff.wrong_route")], lang
        if work.paused:
            return [Reply("staff.probe_locked", {"minutes": work.paused})], lang
        facts = tally.facts(work.staff) if work.tally else work.staff
        work.new_state, replies, effects = staff_flow.step(work.state, work.parsed, facts, now)
        recorded: list = []
        replies = apply_effects(session, effects, ctx, recorded) or replies
        tally.applied(effects, recorded)
        return _count_guesses(services.redis, session, facts, replies, now), lang
    lang = language(work.sender.language)
    _, replies, effects = ben_flow.step(None, work.parsed, work.sender, now)
    replies = apply_effects(session, effects, ctx) or replies
    tally.applied(effects, [])
    return replies, lang


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


def _record_withheld(session, message: InboundMessage, template: str, now: datetime) -> None:
    """No reply to a sender that is not a phone number (an operator's `MTN`-style id cannot receive
    an SMS); the audit log says which message went unanswered and why."""
    log.info("no reply to %s (message %s): not a phone number", mask(message.sender), message.provider_id)
    session.add(AuditLog(at=now, actor=message.sender[:64], action="reply.withheld",
                         detail={"reason": "sender_not_a_phone", "message": message.provider_id,
                                 "template": template}))


def _rate_limited_reply(staff: StaffFacts | None, over: int) -> str | None:
    if staff is None or over > 1:
        return None  # tell staff once; say nothing to anyone else (no loops)
    return render_replies([Reply("staff.rate_limited")], language(staff.language))
