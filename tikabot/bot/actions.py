"""What coordinators change: manual mode, retries, broadcasts. Each runs inside the caller's
transaction and sends only through the outbox, so nothing is sent unless the change is saved, and
each keeps to the sites of the coordinator's scope (tikabot/store/scope.py)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tikabot.alerts.coordinators import alert_manual_mode
from tikabot.core.clock import as_utc
from tikabot.handlers.twilio_sms import will_fail_again
from tikabot.i18n.places import place_name
from tikabot.outbox.messages import add_message, dispatch_now
from tikabot.bot.failures import slot_passed
from tikabot.store.models import Appointment, AuditLog, Beneficiary, OutboundMessage, Site, Staff
from tikabot.store.scope import Scope, scope_of, site_in_scope

RETRY_ALL_WINDOW = timedelta(hours=24)
BROADCAST_MAX_CHARS = 600
BROADCAST_VALID = timedelta(minutes=15)
SITE_STAFF_ROLES = ("vaccinator", "verifier")


@dataclass
class ManualResult:
    site: Site
    changed: bool
    told: int


@dataclass
class RetryResult:
    requeued: list[int] = field(default_factory=list)
    expired: int = 0
    permanent: int = 0
    not_failed: int = 0


def site_staff(session: Session, site_id: int | None = None) -> list[Staff]:
    query = select(Staff).where(Staff.active.is_(True), Staff.role.in_(SITE_STAFF_ROLES)).order_by(Staff.id)
    if site_id is not None:
        query = query.where(Staff.site_id == site_id)
    return list(session.scalars(query))


def set_manual_mode(session: Session, site: Site, on: bool, by: Staff) -> ManualResult:
    """Switch a site; its staff get an SMS saying what to do and coordinators an alert."""
    if site.manual_mode == on:
        return ManualResult(site, changed=False, told=0)
    site.manual_mode = on
    entry = AuditLog(actor=f"staff:{by.id}", action="site.manual_mode", detail={"site": site.code, "on": on})
    session.add(entry)
    session.flush()
    staff = site_staff(session, site.id)
    for person in staff:
        add_message(session, key=f"manual-{entry.id}-{person.id}", recipient=person.phone,
                    template="staff.manual_mode" if on else "staff.manual_mode_off",
                    language=person.language, params={"site": place_name(site)})
    alert_manual_mode(session, site, on, key=f"manual-{entry.id}")
    return ManualResult(site, changed=True, told=len(staff))


def retry_failed(session: Session, which: str | int, now: datetime, by: Staff, tz: str = "Asia/Kolkata",
                 scope: Scope | None = None) -> RetryResult:
    """Put failed messages back to pending for a fresh attempt; never ones past their expiry, never a
    reminder for a slot that has passed (or a cancelled or done appointment), never to a person who
    sent STOP. Only messages of the sites in `scope` (the coordinator's, by default): one outside it
    is treated as no message at all."""
    scope = scope_of(session, by) if scope is None else scope
    site_of = message_sites(session)
    query = select(OutboundMessage).where(OutboundMessage.status == "failed")
    if which == "all":
        query = query.where(OutboundMessage.updated_at >= now - RETRY_ALL_WINDOW)
    else:
        query = select(OutboundMessage).where(OutboundMessage.id == int(which))
    result = RetryResult()
    chosen = []
    for message in session.scalars(query.order_by(OutboundMessage.id)):
        if not scope.covers(site_of(message)):
            continue
        appointment = session.get(Appointment, message.appointment_id) if message.appointment_id else None
        person = session.get(Beneficiary, message.beneficiary_id) if message.beneficiary_id else None
        if message.status != "failed":
            result.not_failed += 1
        elif message.expires_at is not None and as_utc(message.expires_at) <= now:
            result.expired += 1
        elif appointment is not None and slot_passed(message.template, appointment.date, appointment.slot,
                                                     appointment.status, now, tz):
            result.expired += 1
        elif person is not None and person.opted_out:
            result.permanent += 1
        elif which == "all" and will_fail_again(message.last_error_code):  # "/retry ID" may still insist
            result.permanent += 1
        else:
            chosen.append(message)
    for message in chosen:
        session.add(AuditLog(actor=f"staff:{by.id}", action="outbound.retry",
                             detail={"message": message.id, "error": message.last_error_code,
                                     "provider_id": message.provider_id, "attempts": message.attempts}))
        message.status, message.attempts, message.provider_id = "pending", 0, None
        message.lease_until = message.attempt_started_at = message.not_before = None
        result.requeued.append(message.id)
    session.flush()
    dispatch_now(session, chosen)
    return result


def request_broadcast(session: Session, target: str, text: str, by: Staff, now: datetime | None = None) -> AuditLog:
    """Remember a broadcast until the coordinator confirms it (the id goes in the button); `now` is
    the bot's clock, the one the confirmation is checked against."""
    entry = AuditLog(actor=f"staff:{by.id}", action="broadcast.requested",
                     detail={"target": target, "text": text})
    if now is not None:
        entry.at = now
    session.add(entry)
    session.flush()
    return entry


def broadcast_recipients(session: Session, target: str, scope: Scope) -> list[Staff] | None:
    """Site staff for a site code or ALL (every site in the scope); None for a site that is not
    in the scope or does not exist."""
    if target == "ALL":
        return [p for p in site_staff(session) if scope.covers(p.site_id)]
    site = site_in_scope(session, target, scope)
    return None if site is None else site_staff(session, site.id)


def message_sites(session: Session):
    """site_of(message): the site a message is about, the beneficiary's or the staff member's it
    went to (None when neither), for keeping a coordinator to their scope."""
    staff = {}
    for person in session.scalars(select(Staff)):
        staff[person.phone] = person.site_id
        if person.telegram_user_id:
            staff[str(person.telegram_user_id)] = person.site_id

    def site_of(message: OutboundMessage) -> int | None:
        if message.beneficiary_id is not None:
            person = session.get(Beneficiary, message.beneficiary_id)
            if person is not None:
                return person.site_id
        return staff.get(message.recipient)
    return site_of


def confirm_broadcast(session: Session, request_id: int, by: Staff, now: datetime,
                      sent: list | None = None) -> tuple[str, int]:
    """Send a requested broadcast once. Returns (outcome, recipients): sent|expired|done|unknown;
    `sent`, when given, gets the new outbox rows (to report their delivery)."""
    entry = session.get(AuditLog, request_id)
    if entry is None or entry.action != "broadcast.requested" or entry.actor != f"staff:{by.id}":
        return "unknown", 0
    if as_utc(entry.at) < now - BROADCAST_VALID:
        return "expired", 0
    marker = f"broadcast.sent:{request_id}"
    if session.scalar(select(AuditLog.id).where(AuditLog.action == marker)) is not None:
        return "done", 0
    recipients = broadcast_recipients(session, entry.detail["target"], scope_of(session, by)) or []
    for person in recipients:
        row = add_message(session, key=f"broadcast-{request_id}-{person.id}", recipient=person.phone,
                          template="broadcast", language=person.language, params={"text": entry.detail["text"]})
        if sent is not None:
            sent.append(row)
    session.add(AuditLog(actor=f"staff:{by.id}", action=marker, detail={"recipients": len(recipients)}))
    return "sent", len(recipients)


def cancel_broadcast(session: Session, request_id: int, by: Staff) -> str:
    """Close a requested broadcast without sending, so a stale Send button does nothing.
    Returns "cancelled", "done" (already sent or cancelled) or "unknown" (not this coordinator's)."""
    entry = session.get(AuditLog, request_id)
    if entry is None or entry.actor != f"staff:{by.id}":
        return "unknown"
    marker = f"broadcast.sent:{request_id}"
    if session.scalar(select(AuditLog.id).where(AuditLog.action == marker)) is not None:
        return "done"
    session.add(AuditLog(actor=f"staff:{by.id}", action=marker, detail={"cancelled": True}))
    return "cancelled"
