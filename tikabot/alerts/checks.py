"""The periodic alert checks (tikabot/tasks/alerts.py runs `check_alerts` every minute, in one
transaction): no session by 10:00 local, sites silent 60 minutes during an open session, codes lost
even by voice, a safety net for SEVERE side effects, and escalation of unacknowledged alerts. Each
is idempotent. Final send failures are summarised by the send pipeline's relay (queue/relay.py)."""
from __future__ import annotations

import zlib
from datetime import datetime, time, timedelta

from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from tikabot.alerts.state import (
    AckTimes, alert_recipients, escalate_unacknowledged, raise_alert,
    send_copies, site_ids_of, site_line,
)
from tikabot.core.clock import as_utc, local_at, local_date
from tikabot.i18n.catalog import LANGUAGES, render
from tikabot.i18n.numbers import native_digits
from tikabot.store.activity import last_report  # the same "last sign of life" /site shows
from tikabot.store.models import (
    AdverseEvent, Appointment, AuditLog, Beneficiary, CoordinatorAlert, OutboundMessage, Site, Staff,
    VaccinationSession,
)


from tikabot.alerts.coordinators import alert_coordinators
from tikabot.alerts.severe import alert_severe_aefi


# --- periodic checks (the worker's scheduler calls check_alerts every few minutes) -------------

NO_SESSION_BY = time(10, 0)
SILENT_AFTER = timedelta(minutes=60)
OTP_LOOKBACK = timedelta(hours=2)
AEFI_LOOKBACK = timedelta(hours=24)
MAX_NAMES = 8


REMIND_EVERY = timedelta(minutes=30)


def check_alerts(session: Session, now: datetime, tz: str, *, medical_officers: tuple[str, ...] = (),
                 telegram: bool = True, ack_times: AckTimes = AckTimes()) -> list[OutboundMessage]:
    """Every periodic check; idempotent, so running it twice (or on two workers) sends nothing new.
    Last, alerts nobody acknowledged in time are sent again and escalated."""
    return (check_site_alerts(session, now, tz) + check_otp_alerts(session, now)
            + check_aefi_alerts(session, now, medical_officers=medical_officers, telegram=telegram, tz=tz)
            + escalate_unacknowledged(session, now, ack_times))


def check_site_alerts(session: Session, now: datetime, tz: str) -> list[OutboundMessage]:
    """Sites with no open session by 10:00 local (corrected as they open, the rest reminded); sites
    silent 60 minutes during an open session. Sites in manual (paper) mode are expected to be quiet
    and are left out."""
    return _no_session_update(session, now, tz) + _no_session_alert(session, now, tz) + _silent_alert(session, now, tz)


def _not_opened(session: Session, day) -> list[Site]:
    opened = select(VaccinationSession.site_id).where(VaccinationSession.date == day)
    booked = select(Appointment.site_id).where(Appointment.date == day, Appointment.status != "cancelled")
    return list(session.scalars(select(Site).where(Site.id.in_(booked), Site.id.not_in(opened),
                                                   Site.manual_mode.is_(False)).order_by(Site.code)))


def _no_session_alert(session: Session, now: datetime, tz: str) -> list[OutboundMessage]:
    day = local_date(now, tz)
    if now < local_at(day, NO_SESSION_BY, tz):
        return []
    sites = _not_opened(session, day)
    fresh = _unmarked(session, {f"nosession:{s.code}:{day:%Y%m%d}": s for s in sites})
    if not fresh:
        return []
    count = len(fresh)
    return raise_alert(session, key=f"nosession-{day:%Y%m%d}-{_digest(fresh)}", kind="no_session",
                       sites=list(fresh.values()), now=now, next_step="alert.next_no_session",
                       headline=lambda lang: render("alert.no_session_head", lang, count=count))


def _no_session_update(session: Session, now: datetime, tz: str) -> list[OutboundMessage]:
    """For each open "not opened" alert of today: when some of its sites have opened since, say so
    ("3 of the 6 sites have now opened; still not open: ..."); when none has for REMIND_EVERY,
    remind of the ones still not open; when all have, close it."""
    day = local_date(now, tz)
    start = local_at(day, time(0, 0), tz)
    sent = []
    still = {s.code: s for s in _not_opened(session, day)}
    for alert in session.scalars(select(CoordinatorAlert).where(
            CoordinatorAlert.kind == "no_session", CoordinatorAlert.resolved_at.is_(None),
            CoordinatorAlert.raised_at >= start).order_by(CoordinatorAlert.id)):
        waiting = [still[c] for c in alert.site_codes if c in still]
        opened = len(alert.site_codes) - len(waiting)
        last = alert.detail.get("opened", 0)
        since = as_utc(datetime.fromisoformat(alert.detail.get("updated_at", as_utc(alert.raised_at).isoformat())))
        if opened == last and (not waiting or now - since < REMIND_EVERY):
            continue
        total = len(alert.site_codes)
        names = {lang: "\n".join(site_line(session, s, lang) for s in waiting) for lang in LANGUAGES}
        if not waiting:
            def text(lang, total=total):
                return render("alert.no_session_all_open", lang, count=total)
            alert.resolved_at = now
        elif opened != last:
            def text(lang, opened=opened, total=total, names=names):
                return render("alert.no_session_update", lang, opened=opened, count=total) + "\n" + names[lang]
        else:
            def text(lang, names=names, n=len(waiting)):
                return render("alert.no_session_reminder", lang, count=n) + "\n" + names[lang]
        tag = f"{opened}-{int((now - as_utc(alert.raised_at)).total_seconds() // 60)}"
        sent += send_copies(session, alert, alert_recipients(session, site_ids_of(session, alert.site_codes)),
                            f"alert-{alert.key}-u{tag}", text,
                            with_buttons=bool(waiting))
        alert.detail = {**alert.detail, "opened": opened, "updated_at": now.isoformat()}
    return sent


def _silent_alert(session: Session, now: datetime, tz: str) -> list[OutboundMessage]:
    day = local_date(now, tz)
    rows = session.execute(select(Site, VaccinationSession).join(
        VaccinationSession, VaccinationSession.site_id == Site.id).where(
        VaccinationSession.date == day, VaccinationSession.closed_at.is_(None), Site.manual_mode.is_(False))
        .order_by(Site.code))
    silent, since = {}, {}
    for site, open_session in rows:
        phones = list(session.scalars(select(Staff.phone).where(Staff.site_id == site.id)))
        last = max(filter(None, [as_utc(open_session.opened_at), last_report(session, site.id, phones)]))
        if now - last >= SILENT_AFTER:
            silent[f"silent:{site.code}:{last:%Y%m%d%H%M}"] = site
            since[site.code] = last
    _resolve_heard_from(session, set(since), now)
    fresh = _unmarked(session, silent)
    if not fresh:
        return []
    sites = list(fresh.values())
    longest = max(now - since[s.code] for s in sites)
    minutes = int(longest.total_seconds() // 60)
    first = min(since[s.code] for s in sites)
    zone = ZoneInfo(tz)
    return raise_alert(session, key=f"silent-{_digest(fresh)}", kind="site_silent", sites=sites, now=now,
                       next_step="alert.next_silent",
                       headline=lambda lang: render("alert.silent_head", lang, count=len(sites), minutes=minutes,
                                                    time=_clock(first.astimezone(zone), lang)))


def _resolve_heard_from(session: Session, still_silent: set[str], now: datetime) -> None:
    """A silent-site alert whose sites have all been heard from since is no longer true: it is
    closed, so it is not sent again or escalated."""
    for alert in session.scalars(select(CoordinatorAlert).where(CoordinatorAlert.kind == "site_silent",
                                                                CoordinatorAlert.resolved_at.is_(None))):
        if not still_silent & set(alert.site_codes):
            alert.resolved_at = now


def _clock(moment: datetime, lang: str) -> str:
    return native_digits(moment.strftime("%H:%M"), lang)


def check_otp_alerts(session: Session, now: datetime) -> list[OutboundMessage]:
    """OTPs whose voice-call fallback failed too: one grouped alert per site for those not yet
    reported, to the coordinators whose scope covers the site."""
    rows = session.execute(select(OutboundMessage.id, Beneficiary.ref, Site.name, Beneficiary.site_id)
                           .join(Beneficiary, OutboundMessage.beneficiary_id == Beneficiary.id)
                           .outerjoin(Site, Beneficiary.site_id == Site.id)
                           .where(OutboundMessage.channel == "voice", OutboundMessage.status == "failed",
                                  OutboundMessage.updated_at >= now - OTP_LOOKBACK)
                           .order_by(OutboundMessage.id)).all()
    fresh = _unmarked(session, {f"otp:{mid}": (ref, site or "?", site_id) for mid, ref, site, site_id in rows})
    by_site: dict[int | None, dict] = {}
    for marker, found in fresh.items():
        by_site.setdefault(found[2], {})[marker] = found
    sent = []
    for site_id, group in by_site.items():
        refs = _names(dict.fromkeys(ref for ref, _, _ in group.values()))
        sites = _names(sorted({site for _, site, _ in group.values()}))
        sent += alert_coordinators(session, key=f"otp-{_digest(group)}", template="alert.otp_undelivered",
                                   params={"ref": refs, "site": sites}, priority="otp", site_id=site_id)
    return sent


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
