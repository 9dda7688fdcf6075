"""The RQ job: send a batch of outbox messages, given their ids.

One job = claim (one transaction, leases of at most SendSettings.lease_s) -> send all claimed
messages concurrently through the channel's sender (bulk paced by the Redis throttle) ->
record every outcome (one transaction). A message whose earlier attempt may have reached the
provider is first looked up there, so a crash or a timeout never turns into a second SMS.

SMS go by their routes when TIKABOT_ROUTES names more than Twilio (queue/routes/send.py): the
route that carried each is recorded (`via`), and what the batch learnt about routes (an outage
begun, DLT refusals) is told to coordinators in the same record transaction.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from datetime import timedelta

from redis.exceptions import RedisError

from tikabot.core.clock import now as utcnow
from tikabot.core.sending import ACCOUNT, FAIL, RETRY, SendError
from tikabot.core.phones import mask
from tikabot.outbox import transport
from tikabot.queue import callbacks, ledger, recheck, runtime
from tikabot.core import handoffs
from tikabot.queue.routes import pause, alerts as route_alerts, send as route_send
from tikabot.queue.retry import next_attempt_at
from tikabot.queue.routes.table import DEFAULT_ROUTE, ROUTED_CHANNELS, carried_by
from tikabot.queue.senders import SENDERS
from tikabot.core.statuses import AT_PROVIDER

log = logging.getLogger(__name__)
MAX_IN_FLIGHT = 64


def send_batch(ids: list[int]) -> dict:
    """RQ entry point. Returns counts by outcome (kept only for logs)."""
    rt = runtime.current()
    return rt.run(send_ids(rt, [int(i) for i in ids]))


def _sending_window(rt) -> float:
    """Seconds after the claim in which a send may still start: the lease, less time for a timeout."""
    return max(rt.settings.lease_s - 2 * rt.services.config.twilio_timeout, 1.0)


def _bulk_limit(rt) -> int:
    """How many bulk messages one lease can cover at SEND_RATE, with time left for a timeout."""
    return max(1, int(rt.services.config.send_rate * _sending_window(rt)))


async def send_ids(rt, ids: list[int]) -> dict:
    services, settings = rt.services, rt.settings
    redis = services.redis
    now = utcnow()
    with services.transaction() as session:
        claims, closed, left = ledger.claim(session, ids, now=now, lease_s=settings.lease_s,
                                            channels=SENDERS.keys(), tz=services.config.tz,
                                            bulk_limit=_bulk_limit(rt))
    transport.forget(redis, ids)
    if left:  # more bulk than one lease covers at SEND_RATE: back to the queue as a new job
        transport.enqueue(redis, [(i, "bulk") for i in left])
    if not claims:
        return {"closed": closed}
    batch = route_send.Batch()
    held = _paused_routes(rt, claims, now)
    outcomes = await _send_all(rt, claims, deadline=now + timedelta(seconds=_sending_window(rt)), batch=batch,
                               held=held)
    done = utcnow()
    with services.transaction() as session:
        ledger.record(session, outcomes, done)
        paused = {o.via: o.code for o in outcomes if o.kind == "released" and o.via and not o.route_alerted}
        for route, code in paused.items():  # a route whose account just failed: named with its code
            route_alerts.alert_account_failure(session, route, code, done)
        _tell_about_routes(rt, session, batch, done)
    # reports that came before this record (NIC's name only its own request id): applied now
    callbacks.apply_kept(services, [o.accepted.provider_id for o in outcomes if o.kind == "accepted"],
                         settings=settings)
    late = [(o.id, "bulk") for o in outcomes if o.kind == "late"]
    if late:  # committed back to pending: into a new job now (the relay would find them too)
        transport.enqueue(redis, late)
    _recheck_found_on_their_way(rt, outcomes, done)
    counts: dict[str, int] = {"closed": closed}
    for outcome in outcomes:
        counts[outcome.kind] = counts.get(outcome.kind, 0) + 1
    return counts


def _tell_about_routes(rt, session, batch: route_send.Batch, done) -> None:
    for outage in batch.outages:
        route_alerts.record_outage(session, outage)
        route_alerts.alert_route_down(session, outage, rt.router.table)
    for outage in batch.recovered:
        route_alerts.record_outage(session, outage, ended=True)
    if batch.refusals:
        route_alerts.alert_dlt_refusals(session, batch.refusals, done)


def _recheck_found_on_their_way(rt, outcomes: list[ledger.Outcome], done) -> None:
    """Copies the provider check found not yet delivered: ask about them again soon (recheck)."""
    ids = [o.id for o in outcomes if o.checked and o.accepted.provider_status in AT_PROVIDER]
    if not ids:
        return
    try:
        recheck.ask_soon(rt.services.redis, ids, done + timedelta(seconds=rt.settings.recheck_after_s))
    except RedisError:  # the status poll's quiet time still covers them
        log.warning("could not plan a status check for %d messages", len(ids))


async def _send_all(rt, claims: list[ledger.Claimed], deadline, batch: route_send.Batch,
                    held: dict | None = None) -> list[ledger.Outcome]:
    gate = asyncio.Semaphore(MAX_IN_FLIGHT)
    turns = {c.message.id: asyncio.Event() for c in claims if c.message.priority == "bulk"}
    pacer = asyncio.create_task(_pace(rt, list(turns.values()), deadline)) if turns else None
    try:
        return await asyncio.gather(*(_send_one(rt, c, gate, turns.get(c.message.id), deadline, batch, held or {})
                                      for c in claims))
    finally:
        if pacer is not None:
            pacer.cancel()


async def _pace(rt, turns: list[asyncio.Event], deadline) -> None:
    """Release bulk messages at the throttle's rate. Slots are reserved a few at a time (1 % of the
    rate: 10 ms of sending) just before they are used, so a sender that falls behind (a busy event
    loop, a slow provider) takes later slots instead of catching up in a burst: at most 1 % over
    the rate in any second, not just on average. Past the deadline no more slots are taken."""
    rate = rt.throttle.rate
    size = max(1, int(rate // 100))
    stop = time.monotonic() + (deadline - utcnow()).total_seconds()
    for first in range(0, len(turns), size):
        if time.monotonic() > stop:  # the rest go back unsent (_send_one): take no slots for them
            break
        chunk = turns[first:first + size]
        try:
            start, redis_now = rt.throttle.reserve(len(chunk))
            base = time.monotonic() + (start - redis_now)
        except RedisError:  # Redis gone for a moment: keep this process's own pace meanwhile
            base = time.monotonic() + len(chunk) / rate
        for i, turn in enumerate(chunk):
            wait = min(base + i / rate, stop + 0.05) - time.monotonic()  # a slot past the deadline: late
            if wait > 0:
                await asyncio.sleep(wait)
            turn.set()
    for turn in turns:
        turn.set()


async def _send_one(rt, claim: ledger.Claimed, gate: asyncio.Semaphore, turn: asyncio.Event | None,
                    deadline, batch: route_send.Batch, held: dict) -> ledger.Outcome:
    message = claim.message
    if turn is not None:
        await turn.wait()
    router = rt.router
    async with gate:
        now = utcnow()
        waiting = _held(rt, message, held)
        if waiting is not None:
            return waiting
        if message.expires_at is not None and message.expires_at <= now:
            return ledger.Outcome(message.id, message.attempt, "expired", code="expired")
        if now > deadline:
            # Other workers share the bulk pace, so this turn came late: the lease could end mid-send
            # and the relay hand the message to another worker. Give it back unsent instead.
            return ledger.Outcome(message.id, message.attempt, "late", code="late", at=now)
        if route_send.routed(router, message):
            return await route_send.send_routed(rt, router, claim, batch, _after_error, paced)
        sender = rt.sender(message.channel)
        via = DEFAULT_ROUTE if message.channel in ROUTED_CHANNELS else None
        try:
            if claim.earlier_attempt_at is not None and rt.settings.provider_check:
                found = await sender.find_existing(message, claim.earlier_attempt_at, exclude=claim.taken)
                if found is not None:
                    log.info("message %s already at the provider as %s; not sent again", message.id,
                             found.provider_id)
                    return ledger.Outcome(message.id, message.attempt, "accepted", accepted=found, checked=True,
                                          via=via)
            if via is not None:
                handoffs.note(rt.services.redis, message.id, message.attempt, via)
            accepted = await sender.send(message)
        except SendError as exc:
            if exc.kind.paced:
                return paced(message, exc)
            outcome = await _after_error(rt, claim, exc, sender)
            return dataclasses.replace(outcome, via=via or outcome.via)
    return ledger.Outcome(message.id, message.attempt, "accepted", accepted=accepted, via=via)


def paced(message, exc: SendError) -> ledger.Outcome:
    """Refused by our own pace (a gateway phone's slot too far off): back to the outbox, due when
    its slot would have come; no attempt spent, no failure counted."""
    at = utcnow() + timedelta(seconds=exc.wait_s or 0.0)
    return ledger.Outcome(message.id, message.attempt, "paced", code=exc.kind.name[:20], at=at)


def _paused_routes(rt, claims: list[ledger.Claimed], now) -> dict:
    """{route: paused until} for the unrouted routes these claims go by (queue/routes/pause.py). Routed
    SMS are left to route health, which reads a pause as down and fails over; the rest (Twilio
    alone, calls, Telegram) wait for their own route only, so one account's error never holds
    another route's messages (the alert about it among them)."""
    routes = {carried_by(c.message.channel, None) for c in claims if not route_send.routed(rt.router, c.message)}
    held = {}
    for route in routes:
        try:
            until = pause.paused_until(rt.services.redis, route, now)
        except RedisError:
            continue
        if until is not None:
            held[route] = until
    return held


def _held(rt, message, held: dict) -> ledger.Outcome | None:
    """Not sent, and the attempt not counted, while its route is paused."""
    if not held or route_send.routed(rt.router, message):
        return None
    until = held.get(carried_by(message.channel, None))
    if until is None:
        return None
    return ledger.Outcome(message.id, message.attempt, "released", code="paused", at=until, route_alerted=True)


async def _after_error(rt, claim: ledger.Claimed, exc: SendError, sender, route: str | None = None) -> ledger.Outcome:
    """route: the route the failed call went to (None: the channel's own, unrouted)."""
    message, kind, settings = claim.message, exc.kind, rt.settings
    now = utcnow()
    log.warning("send of message %s to %s failed: %s", message.id, mask(message.recipient), exc.kind.name)
    if kind.action == ACCOUNT:  # that route's account: pause it alone
        route = route or carried_by(message.channel, None)
        pause.pause(rt.services.redis, route, exc.code, settings.account_pause_s)
        return ledger.Outcome(message.id, message.attempt, "released", code=exc.code,
                              at=now + timedelta(seconds=settings.account_pause_s), via=route)
    if kind.action == FAIL:
        opted_out = message.recipient if kind.opted_out else None
        return ledger.Outcome(message.id, message.attempt, "failed", code=exc.code, recipient=opted_out)
    at = next_attempt_at(attempts=message.attempt, kind=kind, expires_at=message.expires_at, now=now,
                         settings=settings)
    if at is not None and exc.wait_s:  # no sooner than the provider asked
        at = max(at, now + timedelta(seconds=exc.wait_s))
    unknown = kind.action != RETRY
    if at is not None:
        return ledger.Outcome(message.id, message.attempt, "retry", code=exc.code, at=at, unknown=unknown)
    if unknown and settings.provider_check:  # last attempt, outcome unknown: ask before calling it failed
        try:
            found = await sender.find_existing(message, now - timedelta(seconds=rt.services.config.twilio_timeout * 2))
        except SendError:
            found = None
        if found is not None:
            return ledger.Outcome(message.id, message.attempt, "accepted", accepted=found, checked=True)
    return ledger.Outcome(message.id, message.attempt, "failed", code=exc.code)
