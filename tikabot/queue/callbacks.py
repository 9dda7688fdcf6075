"""Applying a provider's status callback to the outbox row it names.

Forward only: a late `sent` after `delivered` changes nothing. A retryable delivery error
(30003, 30008, ...) puts the message back to `pending` with a back-off (the relay queues it
when due); a permanent one fails it; 21610 also marks the number opted out; an account error
(30002) pauses all sending and alerts coordinators.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tikabot.handlers.twilio_sms import OPT_OUT_CODE, classify
from tikabot.queue.sending import ACCOUNT, FAIL, StatusReport
from tikabot.queue import ledger, pause, sealing
from tikabot.queue.retry import next_attempt_at
from tikabot.queue.settings import SendSettings
from tikabot.queue.statuses import TERMINAL, moves_forward
from tikabot.store.models import OutboundMessage


def find_message(session: Session, report: StatusReport, now: datetime,
                 match_ids: bool = True) -> OutboundMessage | None:
    message = session.scalar(select(OutboundMessage).where(OutboundMessage.provider_id == report.provider_id)
                             .with_for_update())
    if message is None and report.message_id is not None and match_ids:
        # The create call's answer never reached us (timeout, crash): our id in the URL names it.
        candidate = session.get(OutboundMessage, report.message_id, with_for_update=True)
        if (candidate is not None and candidate.provider_id is None and candidate.attempts == report.attempt
                and candidate.status in ("sending", "pending")):
            candidate.provider_id = report.provider_id
            candidate.status = "accepted"
            candidate.lease_until = None
            candidate.attempt_started_at = None
            candidate.sent_at = candidate.sent_at or now
            message = candidate
    return message


def apply_report(session: Session, report: StatusReport, *, now: datetime, settings: SendSettings,
                 redis) -> str:
    """Update the message; returns what happened (for logs and tests). A message made final here
    loses its sealed text (queue/sealing.py)."""
    message = find_message(session, report, now, match_ids=settings.provider_check)
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
    kind = report.kind or classify(code)
    message.last_error_code = report.code or (str(code) if code is not None else "unknown")
    message.lease_until = None
    if kind.action == FAIL:
        message.status = "failed"
        if report.kind is None and code == OPT_OUT_CODE:
            ledger.mark_opted_out(session, [message.recipient])
        return "failed"
    if kind.action == ACCOUNT:
        pause.pause(redis, str(code), settings.account_pause_s)
        pause.alert_account_failure(session, str(code), now)
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
