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
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tikabot.core.sending import ACCOUNT, FAIL, UNDELIVERED, StatusReport
from tikabot.core import handoffs
from tikabot.queue.routes import pause, alerts as route_alerts
from tikabot.queue import ledger
from tikabot.outbox import sealing
from tikabot.queue.retry import next_attempt_at
from tikabot.queue.routes.table import carried_by, route_of
from tikabot.queue.settings import SendSettings
from tikabot.core.statuses import TERMINAL, moves_forward
from tikabot.store.models import OutboundMessage

log = logging.getLogger(__name__)


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
    message = session.scalar(select(OutboundMessage).where(OutboundMessage.provider_id == report.provider_id)
                             .with_for_update())
    if message is not None:
        if reported_by_carrier(redis, message, report):
            return message
        log.warning("status report via %s for message %s, which %s carried: ignored", report.via, message.id,
                    carried_by(message.channel, message.via))
        return None
    if report.message_id is not None and match_ids:
        # The create call's answer never reached us (timeout, crash): our id in the URL names it.
        candidate = session.get(OutboundMessage, report.message_id, with_for_update=True)
        if not _handed_attempt(redis, candidate, report):
            if candidate is not None:
                log.warning("status report via %s names message %s attempt %s, not handed to it: ignored",
                            report.via, report.message_id, report.attempt)
            return None
        candidate.provider_id = report.provider_id
        candidate.status = "accepted"
        candidate.lease_until = None
        candidate.attempt_started_at = None
        candidate.sent_at = candidate.sent_at or now
        return candidate
    return None


def apply_report(session: Session, report: StatusReport, *, now: datetime, settings: SendSettings,
                 redis) -> str:
    """Update the message; returns what happened (for logs and tests). A message made final here
    loses its sealed text (outbox/sealing.py)."""
    message = find_message(session, report, now, redis, match_ids=settings.provider_check)
    if message is None:
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
