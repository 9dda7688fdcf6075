"""Alerts to coordinators. They go through the outbox like every message, so they are retried.

A coordinator with a Telegram user id gets alerts in Telegram; one without gets them by SMS.
`key` makes an alert idempotent: the same key never alerts the same coordinator twice, which is
also how a bad hour becomes one grouped message (key it by the hour) instead of hundreds.

Periodic checks: `check_alerts(session, now, tz)` (no session by 10:00 local, sites silent 60
minutes during an open session, codes lost even by voice, a safety net for SEVERE side effects)
is idempotent; a scheduler runs it every few minutes in one transaction. Final send failures are
summarised by the send pipeline's relay (tikabot/queue/relay.py, alert_failures), not here.
"""
from __future__ import annotations

import zlib
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tikabot.clock import as_utc, local_at, local_date
from tikabot.i18n.places import place_name
from tikabot.queue.outbox import add_message
from tikabot.store.models import (
    AdverseEvent, Appointment, AuditLog, Beneficiary, OutboundMessage, Site, Staff, VaccinationSession,
)


def coordinators(session: Session) -> list[Staff]:
    return list(session.scalars(select(Staff).where(Staff.role == "coordinator", Staff.active.is_(True))
                                .order_by(Staff.id)))


def alert_coordinators(session: Session, *, key: str, template: str, params: dict,
                       priority: str = "default") -> list[OutboundMessage]:
    sent = []
    for person in coordinators(session):
        if person.telegram_user_id:
            channel, recipient = "telegram", str(person.telegram_user_id)
        else:
            channel, recipient = "sms", person.phone
        sent.append(add_message(session, key=f"alert-{key}-{person.id}", recipient=recipient,
                                template=template, language=person.language, params=params,
                                priority=priority, channel=channel))
    return sent


# --- the alerts themselves --------------------------------------------------------------------

def alert_manual_mode(session: Session, site: Site, on: bool, *, key: str) -> list[OutboundMessage]:
    return alert_coordinators(session, key=key, template="alert.manual_mode",
                              params={"site": f"{site.name} ({site.code})", "state": "ON" if on else "OFF"})


def alert_severe_aefi(session: Session, event: AdverseEvent) -> list[OutboundMessage]:
    """A SEVERE adverse event, at once and on the fastest queue. Keyed by the event: sent once."""
    ref = session.scalar(select(Beneficiary.ref).where(Beneficiary.id == event.beneficiary_id))
    site = session.get(Site, event.site_id) if event.site_id else None
    return alert_coordinators(session, key=f"aefi-{event.id}", template="alert.aefi_severe",
                              params={"site": place_name(site) if site else "?", "ref": ref, "note": event.note or "-"},
                              priority="otp")


# --- periodic checks (the worker's scheduler calls check_alerts every few minutes) -------------

NO_SESSION_BY = time(10, 0)
SILENT_AFTER = timedelta(minutes=60)
OTP_LOOKBACK = timedelta(hours=2)
AEFI_LOOKBACK = timedelta(hours=24)
MAX_NAMES = 8


def check_alerts(session: Session, now: datetime, tz: str) -> list[OutboundMessage]:
    """Every periodic check; idempotent, so running it twice (or on two workers) sends nothing new."""
    return check_site_alerts(session, now, tz) + check_otp_alerts(session, now) + check_aefi_alerts(session, now)


def check_site_alerts(session: Session, now: datetime, tz: str) -> list[OutboundMessage]:
    """Sites with no open session by 10:00 local; sites silent 60 minutes during an open session.
    Sites in manual (paper) mode are expected to be quiet and are left out."""
    return _no_session_alert(session, now, tz) + _silent_alert(session, now, tz)


def _no_session_alert(session: Session, now: datetime, tz: str) -> list[OutboundMessage]:
    day = local_date(now, tz)
    if now < local_at(day, NO_SESSION_BY, tz):
        return []
    opened = select(VaccinationSession.site_id).where(VaccinationSession.date == day)
    booked = select(Appointment.site_id).where(Appointment.date == day, Appointment.status != "cancelled")
    sites = list(session.scalars(select(Site).where(Site.id.in_(booked), Site.id.not_in(opened),
                                                    Site.manual_mode.is_(False)).order_by(Site.code)))
    fresh = _unmarked(session, {f"nosession:{s.code}:{day:%Y%m%d}": s for s in sites})
    if not fresh:
        return []
    return alert_coordinators(session, key=f"nosession-{day:%Y%m%d}-{_digest(fresh)}",
                              template="alert.no_session", params={"sites": _names(fresh.values())})


def _silent_alert(session: Session, now: datetime, tz: str) -> list[OutboundMessage]:
    from tikabot.bot.queries import last_report  # the same "last sign of life" /site shows

    day = local_date(now, tz)
    rows = session.execute(select(Site, VaccinationSession).join(
        VaccinationSession, VaccinationSession.site_id == Site.id).where(
        VaccinationSession.date == day, VaccinationSession.closed_at.is_(None), Site.manual_mode.is_(False))
        .order_by(Site.code))
    silent = {}
    for site, open_session in rows:
        phones = list(session.scalars(select(Staff.phone).where(Staff.site_id == site.id)))
        last = max(filter(None, [as_utc(open_session.opened_at), last_report(session, site.id, phones)]))
        if now - last >= SILENT_AFTER:
            silent[f"silent:{site.code}:{last:%Y%m%d%H%M}"] = site
    fresh = _unmarked(session, silent)
    if not fresh:
        return []
    minutes = int(SILENT_AFTER.total_seconds() // 60)
    return alert_coordinators(session, key=f"silent-{_digest(fresh)}", template="alert.site_silent",
                              params={"site": _names(fresh.values()), "minutes": minutes})


def check_otp_alerts(session: Session, now: datetime) -> list[OutboundMessage]:
    """OTPs whose voice-call fallback failed too: one grouped alert for those not yet reported."""
    rows = session.execute(select(OutboundMessage.id, Beneficiary.ref, Site.name)
                           .join(Beneficiary, OutboundMessage.beneficiary_id == Beneficiary.id)
                           .outerjoin(Site, Beneficiary.site_id == Site.id)
                           .where(OutboundMessage.channel == "voice", OutboundMessage.status == "failed",
                                  OutboundMessage.updated_at >= now - OTP_LOOKBACK)
                           .order_by(OutboundMessage.id)).all()
    fresh = _unmarked(session, {f"otp:{mid}": (ref, site or "?") for mid, ref, site in rows})
    if not fresh:
        return []
    refs = _names(dict.fromkeys(ref for ref, _ in fresh.values()))
    sites = _names(sorted({site for _, site in fresh.values()}))
    return alert_coordinators(session, key=f"otp-{_digest(fresh)}", template="alert.otp_undelivered",
                              params={"ref": refs, "site": sites}, priority="otp")


def check_aefi_alerts(session: Session, now: datetime) -> list[OutboundMessage]:
    """A safety net: any SEVERE event of the last day not yet alerted is alerted now (same key)."""
    sent = []
    for event in session.scalars(select(AdverseEvent).where(
            AdverseEvent.severity == "SEVERE", AdverseEvent.created_at >= now - AEFI_LOOKBACK)):
        sent += alert_severe_aefi(session, event)
    return sent


# --- grouping helpers ---------------------------------------------------------------------------

def _unmarked(session: Session, candidates: dict[str, object]) -> dict[str, object]:
    """The candidates not alerted before; marks them (in this transaction) as alerted."""
    if not candidates:
        return {}
    actions = {f"alerted:{marker}"[:64]: marker for marker in candidates}
    seen = set(session.scalars(select(AuditLog.action).where(AuditLog.action.in_(actions))))
    fresh = {actions[a]: candidates[actions[a]] for a in actions if a not in seen}
    for marker in fresh:
        session.add(AuditLog(actor="system", action=f"alerted:{marker}"[:64], detail={}))
    return fresh


def _digest(markers: dict) -> str:
    return f"{zlib.crc32('|'.join(sorted(markers)).encode()):08x}"


def _names(items) -> str:
    names = [getattr(item, "name", item) for item in items]
    more = len(names) - MAX_NAMES
    return ", ".join(names[:MAX_NAMES]) + (f" and {more} more" if more > 0 else "")
