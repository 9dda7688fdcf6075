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
from typing import Callable

from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tikabot.clock import as_utc, local_at, local_date
from tikabot.i18n.catalog import render
from tikabot.i18n.places import place_name
from tikabot.queue.outbox import add_message
from tikabot.store.models import (
    AdverseEvent, Appointment, AuditLog, Beneficiary, OutboundMessage, Site, Staff, VaccinationSession,
)


def coordinators(session: Session) -> list[Staff]:
    return list(session.scalars(select(Staff).where(Staff.role == "coordinator", Staff.active.is_(True))
                                .order_by(Staff.id)))


def alert_coordinators(session: Session, *, key: str, template: str, params: dict | Callable[[str], dict],
                       priority: str = "default") -> list[OutboundMessage]:
    """params, or params(language) when a param is a word the reader reads in their language."""
    sent = []
    for person in coordinators(session):
        if person.telegram_user_id:
            channel, recipient = "telegram", str(person.telegram_user_id)
        else:
            channel, recipient = "sms", person.phone
        sent.append(add_message(session, key=f"alert-{key}-{person.id}", recipient=recipient,
                                template=template, language=person.language,
                                params=params(person.language) if callable(params) else params,
                                priority=priority, channel=channel))
    return sent


# --- the alerts themselves --------------------------------------------------------------------

def alert_manual_mode(session: Session, site: Site, on: bool, *, key: str) -> list[OutboundMessage]:
    def params(lang: str) -> dict:
        return {"site": f"{place_name(site).localize(lang)} ({site.code})",
                "state": render("alert.manual_on" if on else "alert.manual_off", lang)}

    return alert_coordinators(session, key=key, template="alert.manual_mode", params=params)


def severe_recipients(session: Session, site_id: int | None) -> list[Staff]:
    """Who answers for a SEVERE side effect at a site: its own coordinators and the district's
    (coordinators with no site)."""
    here = Staff.site_id.is_(None) if site_id is None else or_(Staff.site_id == site_id, Staff.site_id.is_(None))
    return list(session.scalars(select(Staff).where(Staff.role == "coordinator", Staff.active.is_(True), here)
                                .order_by(Staff.id)))


def _reporter(session: Session, phone: str, beneficiary: Beneficiary | None) -> tuple[str | None, str]:
    """(staff name or None for the beneficiary themself, phone)."""
    name = session.scalar(select(Staff.name).where(Staff.phone == phone))
    if name is None and beneficiary is not None and phone == beneficiary.phone:
        return None, phone
    return name or "?", phone


def alert_severe_aefi(session: Session, event: AdverseEvent, *, medical_officers: tuple[str, ...] = (),
                      telegram: bool = True, tz: str = "Asia/Kolkata") -> list[OutboundMessage]:
    """A SEVERE adverse event, at once and on the fastest lane (otp): by SMS to the site's and the
    district's coordinators and to every medical officer, and by Telegram to coordinators who have
    it (when a bot is configured). Keyed by the event and the person: sent once, however often this
    runs. The SMS copies are what SEVERE relies on; Telegram is a second path, not the only one."""
    person = session.get(Beneficiary, event.beneficiary_id)
    site = session.get(Site, event.site_id) if event.site_id else None
    reporter, reporter_phone = _reporter(session, event.reported_by, person)
    params = {"site": place_name(site) if site else "?", "name": person.name if person else "?",
              "ref": person.ref if person else "?", "phone": person.phone if person else "?",
              "time": as_utc(event.created_at).astimezone(ZoneInfo(tz)).strftime("%H:%M"),
              "note": event.note or "-"}

    def message(key: str, recipient: str, language: str, channel: str = "sms") -> OutboundMessage:
        who = reporter or render("alert.self_report", language)
        return add_message(session, key=f"alert-aefi-{event.id}-{key}", recipient=recipient, template="alert.severe",
                           language=language, params={**params, "reporter": f"{who} {reporter_phone}"},
                           priority="otp", channel=channel)

    sent, phones = [], set()
    for staff in severe_recipients(session, event.site_id):
        if staff.phone not in phones:
            phones.add(staff.phone)
            sent.append(message(f"sms-{staff.id}", staff.phone, staff.language))
        if telegram and staff.telegram_user_id:
            sent.append(message(str(staff.id), str(staff.telegram_user_id), staff.language, "telegram"))
    for phone in medical_officers:
        if phone not in phones:
            phones.add(phone)
            sent.append(message(f"mo-{phone}", phone, "en"))
    return sent


def sms_count(messages: list[OutboundMessage]) -> int:
    return sum(1 for m in messages if m.channel == "sms")


# --- periodic checks (the worker's scheduler calls check_alerts every few minutes) -------------

NO_SESSION_BY = time(10, 0)
SILENT_AFTER = timedelta(minutes=60)
OTP_LOOKBACK = timedelta(hours=2)
AEFI_LOOKBACK = timedelta(hours=24)
MAX_NAMES = 8


def check_alerts(session: Session, now: datetime, tz: str, *, medical_officers: tuple[str, ...] = (),
                 telegram: bool = True) -> list[OutboundMessage]:
    """Every periodic check; idempotent, so running it twice (or on two workers) sends nothing new."""
    return (check_site_alerts(session, now, tz) + check_otp_alerts(session, now)
            + check_aefi_alerts(session, now, medical_officers=medical_officers, telegram=telegram, tz=tz))


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


def check_aefi_alerts(session: Session, now: datetime, *, medical_officers: tuple[str, ...] = (),
                      telegram: bool = True, tz: str = "Asia/Kolkata") -> list[OutboundMessage]:
    """A safety net: any SEVERE event of the last day not yet alerted is alerted now (same keys)."""
    sent = []
    for event in session.scalars(select(AdverseEvent).where(
            AdverseEvent.severity == "SEVERE", AdverseEvent.created_at >= now - AEFI_LOOKBACK)):
        sent += alert_severe_aefi(session, event, medical_officers=medical_officers, telegram=telegram, tz=tz)
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
