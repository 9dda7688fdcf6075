"""Applying a provider's status callback to the outbox row it names.

A report touches only what was handed to the route whose credential signed it (`report.via`):
a row that route (that gateway phone) carried, matched by its provider id, or, when we never
learnt that id, the attempt the report names, if that attempt was handed to that route
(core/handoffs.py). Anything else is left alone and logged: one route's token or one phone's
key cannot settle, fail or pause what another route carries.

Forward only: a late `sent` after `delivered` changes nothing. A retryable delivery error
(30003, 30008, ...) puts the message back to `pending` with a back-off (the relay queues it
when due); a permanent one fails it; 21610 also marks the number opted out; an account error
(30002, Exotel's 401-404) pauses that route only (queue/routes/pause.py) and alerts coordinators,
naming the route and the code.

A report can come before the send's own record names the provider id it carries (the send job
records a batch after its last send): such a report is kept (queue/early.py) and applied once the
record is written, whichever route sent it.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tikabot.core.clock import now as utcnow
from tikabot.core.sending import ACCOUNT, FAIL, UNDELIVERED, StatusReport
from tikabot.core import handoffs
from tikabot.queue.routes import pause, alerts as route_alerts
from tikabot.queue import early, ledger
from tikabot.outbox import sealing
from tikabot.queue.retry import next_attempt_at
from tikabot.queue.routes.table import carried_by, route_of
from tikabot.queue.settings import SendSettings
from tikabot.core.statuses import TERMINAL, moves_forward
from tikabot.store.models import OutboundMessage

log = logging.getLogger(__name__)
KEPT = "kept until its send is recorded"


def reported_by_carrier(redis, message: OutboundMessage, report: StatusReport) -> bool:
    """The report's route (and phone) carried this row. A report we read from the provider's API
    ourselves (via None) speaks for the row whose provider id it names."""
    if report.via is None:
        return True
    if carried_by(message.channel, message.via) == report.via:
        return True
    # The row may not name its carrier yet: until the send is recorded, a reply's via is the route
    # its message came in on (a hint for routing), and a phone's reports can outrun that record.
    # The hand-off note says where this attempt went.
    return handoffs.handed(redis, message.id, message.attempts, report.via)


def _handed_attempt(redis, candidate: OutboundMessage | None, report: StatusReport) -> bool:
    return (candidate is not None and report.via is not None and bool(report.attempt)
            and candidate.provider_id is None and candidate.attempts == report.attempt
            and candidate.status in ("sending", "pending")
            and handoffs.handed(redis, candidate.id, report.attempt, report.via))


def find_message(session: Session, report: StatusReport, now: datetime, redis,
                 match_ids: bool = True) -> OutboundMessage | None:
    return _find(session, report, now, redis, match_ids)[0]


def _find(session: Session, report: StatusReport, now: datetime, redis,
          match_ids: bool = True) -> tuple[OutboundMessage | None, bool]:
    """(the row the report settles, whether the report was refused: it names a row its route may
    not touch). (None, False): no row holds its provider id yet."""
    message = session.scalar(select(OutboundMessage).where(OutboundMessage.provider_id == report.provider_id)
                             .with_for_update())
    if message is not None:
        if reported_by_carrier(redis, message, report):
            return message, False
        log.warning("status report via %s for message %s, which %s carried: ignored", report.via, message.id,
                    carried_by(message.channel, message.via))
        return None, True
    if report.message_id is not None and match_ids:
        # The create call's answer never reached us (timeout, crash): our id in the URL names it.
        candidate = session.get(OutboundMessage, report.message_id, with_for_update=True)
        if not _handed_attempt(redis, candidate, report):
            if candidate is not None:
                log.warning("status report via %s names message %s attempt %s, not handed to it: ignored",
                            report.via, report.message_id, report.attempt)
            return None, candidate is not None
        candidate.provider_id = report.provider_id
        candidate.status = "accepted"
        candidate.lease_until = None
        candidate.attempt_started_at = None
        candidate.sent_at = candidate.sent_at or now
        return candidate, False
    return None, False


def apply_report(session: Session, report: StatusReport, *, now: datetime, settings: SendSettings,
                 redis, keep: bool = True) -> str:
    """Update the message; returns what happened (for logs and tests). A message made final here
    loses its sealed text (outbox/sealing.py). A report a route sent us about a provider id no row
    holds yet may have come before the send's own record: with `keep`, it is kept (queue/early.py)
    and applied once the record names that id (apply_kept)."""
    message, refused = _find(session, report, now, redis, match_ids=settings.provider_check)
    if message is None:
        if keep and not refused and report.via is not None and early.keep(redis, report):
            return KEPT
        return "unknown message"
    outcome = _apply(session, message, report, now=now, settings=settings, redis=redis)
    if sealing.done_with(message.status, message.template):
        message.sealed_body = None
    return outcome


def _apply(session: Session, message: OutboundMessage, report: StatusReport, *, now: datetime,
           settings: SendSettings, redis) -> str:
    if message.status in TERMINAL:
        return "ignored: already " + message.status
    if report.status != "undelivered":
        if not moves_forward(message.status, report.status):
            return "ignored: not forward"
        message.status = report.status
        message.lease_until = None
        if report.status == "delivered":
            message.delivered_at = now
        elif report.status == "sent":
            message.sent_at = message.sent_at or now
        return report.status
    code = report.error_code
    kind = report.kind or UNDELIVERED
    message.last_error_code = report.code or (str(code) if code is not None else "unknown")
    message.lease_until = None
    if kind.action == FAIL:
        message.status = "failed"
        if kind.opted_out:
            ledger.mark_opted_out(session, [message.recipient])
        return "failed"
    if kind.action == ACCOUNT:  # that route's account, not every route's
        route = route_of(report.via) or route_of(carried_by(message.channel, message.via))
        pause.pause(redis, route, message.last_error_code, settings.account_pause_s)
        route_alerts.alert_account_failure(session, route, message.last_error_code, now)
        at = now + timedelta(seconds=settings.account_pause_s)
    else:
        at = next_attempt_at(attempts=message.attempts, kind=kind, expires_at=message.expires_at, now=now,
                             settings=settings)
    if at is None:
        message.status = "failed"
        return "failed"
    # Retry: this sid is done with; the next attempt gets a new one. Late callbacks for the old
    # sid then match nothing and change nothing.
    message.status = "pending"
    message.provider_id = None
    message.attempt_started_at = None
    message.not_before = at
    return "retry"


def apply_kept(services, provider_ids, *, settings: SendSettings) -> dict[str, str]:
    """Apply the reports kept for these provider ids (they came before the send's record), in the
    order they came, to the rows that now hold those ids; what happened to each, by provider id.
    The send job calls it once its record has committed; a report's own request calls it after
    keeping the report, in case that record committed in between."""
    kept = early.waiting(services.redis, provider_ids)
    if not kept:
        return {}
    applied, done = {}, []
    with services.transaction() as session:
        for provider_id, reports in kept.items():
            for raw, report in reports:
                outcome = apply_report(session, report, now=utcnow(), settings=settings, redis=services.redis,
                                       keep=False)
                if outcome == "unknown message":
                    break  # no row holds it yet: left for the send's record
                applied[provider_id] = outcome
                done.append((provider_id, raw))
                log.info("early status %s for %s applied: %s", report.status, provider_id, outcome)
    early.forget(services.redis, done)
    return applied
