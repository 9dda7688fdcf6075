"""Sending one message by its routes: the plan, the provider check on the route of the earlier
attempt, DLT for domestic routes, and handing over to the next route when one fails.

No message goes twice: a route is left for the next within one attempt only when its error
says the message was not taken (an account error, an offline gateway, a DLT refusal). After an
error whose outcome is unknown (timeout, 5xx) the attempt ends as a retry with `via` = that
route, and the next attempt first asks that route's provider whether it has the message
(find_existing), whichever route it would go by next.
"""
from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from tikabot.core.clock import now as utcnow
from tikabot.dlt.records import DLT_CODE, DLT_UNREGISTERED
from tikabot.dlt.rules import Brand, sign_body
from tikabot.dlt.store import DltBook
from tikabot.dlt.templates import FREE_TEXT
from tikabot.core import handoffs
from tikabot.queue import ledger
from tikabot.queue.routes import alerts as route_alerts
from tikabot.queue.routes.health import HALF_OPEN, UP, HealthSettings, Outage, RouteHealth, takes_route_down
from tikabot.queue.routes.table import DEFAULT_ROUTE, ROUTED_CHANNELS, RouteTable, plan, table_for, route_of, sender_key, traffic_kind
from tikabot.queue.senders import configured
from tikabot.core.sending import ACCOUNT, RETRY, Outgoing, SendError

log = logging.getLogger(__name__)


@dataclass
class Batch:
    """What one job's sends learnt about routes, written in its record transaction."""
    outages: list[Outage] = field(default_factory=list)
    recovered: list[Outage] = field(default_factory=list)
    refusals: list[tuple[str, str, str]] = field(default_factory=list)  # (route, template, language)


class Router:
    def __init__(self, table: RouteTable, health: RouteHealth, dlt: DltBook, brand: Brand):
        self.table, self.health, self.dlt, self.brand = table, health, dlt, brand

    def routes(self, message: Outgoing, template: str, via: str | None) -> list[str]:
        return plan(self.table, traffic_kind(template, message.priority), via, self.health.usable)

    def first_route(self, message: Outgoing, template: str) -> str:
        return self.table.routes_for(traffic_kind(template, message.priority))[0]

    def prepare(self, route: str, message: Outgoing, template: str) -> Outgoing | None:
        """The message as this route's sender gets it: with its DLT record on a domestic route;
        None when a domestic route may not carry it (no approved template matches)."""
        if not self.table.is_domestic(route):
            return message
        body = sign_body(message.body, message.language, self.brand)  # registered with every template
        record = self.dlt.find(template, message.language, body)
        return None if record is None else dataclasses.replace(message, body=body, dlt=record)


def build(services, senders, settings: HealthSettings | None = None) -> Router | None:
    """The router for this configuration; None when Twilio alone carries everything (as before
    routes existed: no health kept, no failover). Any other single route (a gateway phone alone)
    is routed: unrouted messages go by Twilio. ValueError for a route without a sender."""
    config = services.config
    table = table_for(config)
    if table.single and table.all_routes[0] == DEFAULT_ROUTE and not table.is_domestic(DEFAULT_ROUTE):
        return None
    table.check_known(configured(config, senders))
    return Router(table, RouteHealth(services.redis, settings or HealthSettings.from_env()),
                  DltBook(services.sessions), Brand.of(config))


def routed(router: Router | None, message: Outgoing) -> bool:
    return router is not None and message.channel in ROUTED_CHANNELS


def _refused(batch: Batch, route: str, template: str, language: str) -> None:
    if template not in FREE_TEXT:  # free text is known never to go on DLT routes: nothing to tell
        batch.refusals.append((route, template, language))
    log.warning("not sent on %s: no approved DLT template for %s (%s)", route, template, language)


async def send_routed(rt, router: Router, claim: ledger.Claimed, batch: Batch, after_error, paced) -> ledger.Outcome:
    """One attempt of a routed message. after_error(rt, claim, exc, sender) is the send job's
    handling of an error that ends the attempt; paced(message, exc) its handling of a refusal by
    our own pace (nothing sent, no attempt spent)."""
    message, template = claim.message, claim.template
    if claim.earlier_attempt_at is not None and rt.settings.provider_check:
        found = await _find_earlier(rt, router, claim, after_error)
        if found is not None:
            return found
    last: tuple[str, SendError] | None = None
    routes = router.routes(message, template, claim.via)
    for i, route in enumerate(routes):
        prepared = router.prepare(route, message, template)
        if prepared is not None and route_of(claim.via) == route and claim.via != route:
            prepared = dataclasses.replace(prepared, via=claim.via)  # e.g. the gateway phone it came in on
        if prepared is None:
            _refused(batch, route, template, message.language)
            continue
        sender = rt.sender(sender_key(route))
        router.health.note_attempt(message.id, route)
        handoffs.note(rt.services.redis, message.id, message.attempt, route)
        try:
            accepted = await sender.send(prepared)
        except SendError as exc:
            if exc.kind.name == DLT_UNREGISTERED.name:  # the route's own sender refused it
                _refused(batch, route, template, message.language)
                continue
            if exc.kind.paced:  # our own pace on a route that is up: wait for it, not another route
                return dataclasses.replace(paced(message, exc), via=route)
            outage = router.health.record_error(route, exc)
            if outage is not None:
                batch.outages.append(outage)
            last = (route, exc)
            not_taken = takes_route_down(exc) or (exc.kind.action == RETRY and router.health.state(route) != UP)
            if not_taken and i + 1 < len(routes):
                continue  # the message is not at this provider: the next route may take it now
            return await _ended(rt, router, claim, route, exc, after_error)
        ended = router.health.record_ok(route)
        if ended is not None:
            batch.recovered.append(ended)
        return ledger.Outcome(message.id, message.attempt, "accepted", accepted=accepted, via=accepted.via or route)
    if last is not None:
        return await _ended(rt, router, claim, *last, after_error)
    return ledger.Outcome(message.id, message.attempt, "failed", code=DLT_CODE)


async def _find_earlier(rt, router: Router, claim: ledger.Claimed, after_error) -> ledger.Outcome | None:
    """Ask the provider of the earlier attempt whether it has the message: the route recorded on
    the row, and the one noted in Redis when the attempt began (a worker that died mid-send
    recorded nothing). An accepted outcome when found; a retry when a provider could not say."""
    message = claim.message
    recorded = route_of(claim.via) or router.first_route(message, claim.template)
    noted = router.health.attempted_on(message.id)
    for earlier in dict.fromkeys(r for r in (recorded, noted) if r and r in router.table.all_routes):
        checker = rt.sender(sender_key(earlier))
        try:
            found = await checker.find_existing(message, claim.earlier_attempt_at, exclude=claim.taken)
        except SendError as exc:  # cannot tell whether it went: not on another route either
            return dataclasses.replace(await after_error(rt, claim, exc, checker, route=earlier), via=earlier)
        if found is not None:
            log.info("message %s already at %s as %s; not sent again", message.id, earlier, found.provider_id)
            return ledger.Outcome(message.id, message.attempt, "accepted", accepted=found, checked=True,
                                  via=found.via or earlier)
    return None


async def _ended(rt, router: Router, claim, route: str, exc: SendError, after_error) -> ledger.Outcome:
    message = claim.message
    if exc.kind.action == ACCOUNT:  # the route is down and alerted; wait out its cool-off, not all sending
        at = utcnow() + timedelta(seconds=router.health.settings.cooldown_s)
        return ledger.Outcome(message.id, message.attempt, "released", code=exc.code, at=at, via=route,
                              route_alerted=True)
    outcome = await after_error(rt, claim, exc, rt.sender(sender_key(route)))
    return dataclasses.replace(outcome, via=route)


async def probe_recovering(rt) -> dict[str, bool]:
    """Ask each recovering route whose sender can tell (an optional `async probe() -> bool`, e.g.
    Kannel's smsbox) whether it is back, instead of waiting for a trial message: a route whose
    traffic went elsewhere while it was down (staff texting the next number) may carry no message
    that would try it. A route brought back ends its outage in the audit log ("route_up"), as a
    trial message's success does. Returns route -> answer for the routes asked."""
    router = rt.router
    if router is None:
        return {}
    answers, recovered = {}, []
    for route in router.table.all_routes:
        sender = rt.sender(sender_key(route))
        probe = getattr(sender, "probe", None)
        if probe is None or router.health.state(route) != HALF_OPEN or not router.health.usable(route):
            continue  # nothing to ask, not recovering, or a trial message is trying it now
        try:
            answers[route] = bool(await probe())
        except (SendError, OSError, TimeoutError):
            answers[route] = False
        if answers[route]:
            ended = router.health.record_ok(route)
            if ended is not None:
                recovered.append(ended)
        else:
            router.health.take_down(route, "probe_failed")
    if recovered:
        with rt.services.transaction() as session:
            for outage in recovered:
                route_alerts.record_outage(session, outage, ended=True)
    return answers
