"""Alerts a coordinator can act on: what each says, its buttons, its acknowledgement and escalation.

An actionable alert (a CoordinatorAlert row) names each site by code and name with its in-charge
and a phone Telegram makes tappable (+91...), says what to do next, and in Telegram carries
buttons: /site, manual mode, Acknowledge (callback data `al:site:CODE`, `al:man:CODE`, `al:ack:ID`,
read by tikabot/bot/alert_buttons.py). Its text is kept per language (detail["bodies"]) so it can
be sent again word for word.

Not acknowledged within the set time (TIKABOT_ALERT_ACK_MINUTES, 15; SEVERE within
TIKABOT_SEVERE_ACK_MINUTES, 5) it is sent again to the district's coordinators and escalated to
the state coordinators (staff.level = "state"), once. Acknowledging says by whom to everyone who
got it. Every copy goes only to coordinators whose scope covers the alert's sites (alert_recipients).
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from functools import partial
from datetime import datetime, timedelta
from typing import Callable, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from tikabot.core.clock import as_utc
from tikabot.i18n.catalog import LANGUAGES, render
from tikabot.i18n.places import place_name
from tikabot.outbox.messages import add_message
from tikabot.store.models import CoordinatorAlert, OutboundMessage, Site, Staff, VaccinationSession
from tikabot.store.scope import all_sites, level_of, scope_of

ACK_WITHIN = timedelta(minutes=15)
SEVERE_ACK_WITHIN = timedelta(minutes=5)
MAX_SITE_BUTTONS = 3  # rows of site buttons under one alert; the text lists every site
IN_CHARGE_ROLES = ("vaccinator", "verifier", "coordinator")
STATE = "state"


@dataclass(frozen=True)
class AckTimes:
    normal: timedelta = ACK_WITHIN
    severe: timedelta = SEVERE_ACK_WITHIN

    @classmethod
    def from_config(cls, config) -> "AckTimes":
        return cls(timedelta(minutes=getattr(config, "alert_ack_minutes", 15.0)),
                   timedelta(minutes=getattr(config, "severe_ack_minutes", 5.0)))

    def of(self, alert: CoordinatorAlert) -> timedelta:
        return self.severe if alert.severity == "severe" else self.normal


# --- who ---------------------------------------------------------------------------------------

def district_coordinators(session: Session) -> list[Staff]:
    """Who gets every alert: active coordinators that are not state level."""
    return list(session.scalars(select(Staff).where(
        Staff.role == "coordinator", Staff.active.is_(True),
        (Staff.level.is_(None)) | (Staff.level != STATE)).order_by(Staff.id)))


def state_coordinators(session: Session) -> list[Staff]:
    return list(session.scalars(select(Staff).where(Staff.role == "coordinator", Staff.active.is_(True),
                                                    Staff.level == STATE).order_by(Staff.id)))


def site_ids_of(session: Session, codes) -> list[int]:
    return list(session.scalars(select(Site.id).where(Site.code.in_(list(codes))))) if codes else []


def _audience(session: Session) -> tuple[list[Staff], dict[int, object]]:
    """Every active coordinator and their scope, read once for an alert."""
    people = list(session.scalars(select(Staff).where(Staff.role == "coordinator", Staff.active.is_(True))
                                  .order_by(Staff.id)))
    sites = all_sites(session)
    return people, {p.id: scope_of(session, p, sites) for p in people}


def alert_recipients(session: Session, site_ids, *, escalated: bool = False,
                     audience: tuple | None = None) -> list[Staff]:
    """Who gets an alert about these sites: the site and district coordinators whose scope covers
    one of them (tikabot/store/scope.py); escalated, the state coordinators whose scope does. An
    alert of no site (a route down, an account problem) goes to every district coordinator, as before.

    No alert is lost to a missing scope: a site no site or district coordinator answers for is
    alerted at once to the state coordinators covering it and to coordinators whose scope is not set
    yet (no level, site or district named in a deployment of several districts)."""
    ids = [i for i in site_ids if i is not None]
    if not ids:
        return state_coordinators(session) if escalated else district_coordinators(session)
    people, scopes = audience or _audience(session)
    state = [p for p in people if level_of(p) == STATE]
    if escalated:
        return [p for p in state if scopes[p.id].covers_any(ids)]
    local = [p for p in people if level_of(p) != STATE]
    chosen = [p for p in local if scopes[p.id].covers_any(ids)]
    uncovered = [i for i in ids if not any(scopes[p.id].covers(i) for p in local)]
    if uncovered:
        chosen += [p for p in state if scopes[p.id].covers_any(uncovered)]
        chosen += [p for p in local if scopes[p.id].empty]
    return sorted({p.id: p for p in chosen}.values(), key=lambda p: p.id)


def in_charge(staff: list[Staff], opened: VaccinationSession | None = None) -> Staff | None:
    """Whom a coordinator calls about a site: who opened today's session, else its first active
    vaccinator, then verifier, then the site's own coordinator."""
    active = [p for p in staff if p.active]
    if opened is not None:
        for person in active:
            if person.phone == opened.opened_by:
                return person
    for role in IN_CHARGE_ROLES:
        for person in active:
            if person.role == role:
                return person
    return None


def site_in_charge(session: Session, site: Site) -> Staff | None:
    staff = list(session.scalars(select(Staff).where(Staff.site_id == site.id).order_by(Staff.id)))
    return in_charge(staff)


# --- what it says ------------------------------------------------------------------------------

def site_line(session: Session, site: Site, lang: str) -> str:
    """'KAL01 Kalyani PHC: in-charge Rina +919830000002' (the full number: Telegram makes it a link)."""
    person = site_in_charge(session, site)
    name = place_name(site).localize(lang)
    if person is None:
        return render("alert.site_nobody", lang, code=site.code, name=name)
    return render("alert.site_in_charge", lang, code=site.code, name=name, person=person.name, phone=person.phone)


def compose(session: Session, headline: Callable[[str], str], sites: Iterable[Site], next_step: str,
            lang: str) -> str:
    lines = [headline(lang)] + [site_line(session, s, lang) for s in sites]
    if next_step:
        lines.append(render(next_step, lang))
    return "\n".join(lines)


def buttons(alert: CoordinatorAlert, lang: str) -> list:
    rows = [[[render("bot.button_site", lang, code=code), f"al:site:{code}"],
             [render("bot.button_manual", lang, code=code), f"al:man:{code}"]]
            for code in alert.site_codes[:MAX_SITE_BUTTONS]]
    rows.append([[render("bot.button_ack", lang), f"al:ack:{alert.id}"]])
    return rows


# --- raising, sending again, escalating ---------------------------------------------------------

def raise_alert(session: Session, *, key: str, kind: str, sites: list[Site], headline: Callable[[str], str],
                next_step: str, now: datetime, severity: str = "normal", priority: str = "default",
                recipients: list[Staff] | None = None, sms_too: bool = False) -> list[OutboundMessage]:
    """One actionable alert, once per key: to the district's coordinators (Telegram when they have
    it, else SMS; sms_too: SMS as well) in their language, with buttons in Telegram."""
    if recipients is None and len(sites) > 1:
        groups = _by_audience(session, sites)
        if len(groups) > 1:  # each coordinator reads only the sites of their scope
            sent = []
            for people, group in groups:
                codes = ",".join(s.code for s in group)
                sent += raise_alert(session, key=f"{key}-{zlib.crc32(codes.encode()):08x}", kind=kind, sites=group,
                                    headline=headline, next_step=next_step, now=now, severity=severity,
                                    priority=priority, recipients=people, sms_too=sms_too)
            return sent
    if session.scalar(select(CoordinatorAlert.id).where(CoordinatorAlert.key == key)) is not None:
        return []
    bodies = {lang: compose(session, headline, sites, next_step, lang) for lang in LANGUAGES}
    alert = CoordinatorAlert(key=key, kind=kind, severity=severity, site_codes=[s.code for s in sites],
                             raised_at=now, detail={"bodies": bodies, "priority": priority, "sms_too": sms_too})
    session.add(alert)
    session.flush()
    people = alert_recipients(session, [s.id for s in sites]) if recipients is None else recipients
    return send_copies(session, alert, people, f"alert-{key}", lambda lang: bodies[lang])


def _by_audience(session: Session, sites: list[Site]) -> list[tuple[list[Staff], list[Site]]]:
    """Sites grouped by who is to read about them: one alert per group, so that nobody is shown
    another district's (or another site's) in-charge and phone."""
    groups: dict[tuple[int, ...], tuple[list[Staff], list[Site]]] = {}
    audience = _audience(session)
    for site in sites:
        people = alert_recipients(session, [site.id], audience=audience)
        groups.setdefault(tuple(p.id for p in people), (people, []))[1].append(site)
    return list(groups.values())


def send_copies(session: Session, alert: CoordinatorAlert, people: list[Staff], key: str,
                text: Callable[[str], str], with_buttons: bool = True,
                sms_text: Callable[[str], str] | None = None) -> list[OutboundMessage]:
    """sms_text: the SMS copy when it must differ from Telegram's (no buttons to press)."""
    sent = []
    sms_text = sms_text or text
    priority, sms_too = alert.detail.get("priority", "default"), alert.detail.get("sms_too", False)
    for person in people:
        lang = person.language if person.language in LANGUAGES else "en"
        if person.telegram_user_id:
            sent.append(add_message(session, key=f"{key}-{person.id}", recipient=str(person.telegram_user_id),
                                    template=f"alert.{alert.kind}", language=lang, body=text(lang),
                                    priority=priority, channel="telegram",
                                    buttons=buttons(alert, lang) if with_buttons else None))
        if sms_too or not person.telegram_user_id:
            sent.append(add_message(session, key=f"{key}-sms-{person.id}", recipient=person.phone,
                                    template=f"alert.{alert.kind}", language=lang, body=sms_text(lang),
                                    priority=priority, channel="sms"))
    return sent


def escalate_unacknowledged(session: Session, now: datetime, times: AckTimes = AckTimes()) -> list[OutboundMessage]:
    """Alerts nobody acknowledged in time: sent again to the district, and to the state level."""
    sent = []
    open_alerts = session.scalars(select(CoordinatorAlert).where(
        CoordinatorAlert.acked_at.is_(None), CoordinatorAlert.resolved_at.is_(None),
        CoordinatorAlert.escalated_at.is_(None), CoordinatorAlert.raised_at >= now - timedelta(days=1)))
    for alert in open_alerts:
        waited = now - as_utc(alert.raised_at)
        if waited < times.of(alert):
            continue
        minutes = int(waited.total_seconds() // 60)
        bodies = alert.detail["bodies"]
        sms_bodies = alert.detail.get("sms_bodies", bodies)  # SEVERE's SMS copy has no button to press

        def again(lang: str, minutes: int = minutes, bodies: dict = bodies) -> str:
            return render("alert.not_acknowledged", lang, minutes=minutes) + "\n" + bodies[lang]

        def escalated(lang: str, minutes: int = minutes, bodies: dict = bodies) -> str:
            return render("alert.escalated", lang, minutes=minutes) + "\n" + bodies[lang]

        ids = site_ids_of(session, alert.site_codes)
        sent += send_copies(session, alert, alert_recipients(session, ids), f"alert-{alert.key}-again", again,
                            sms_text=partial(again, bodies=sms_bodies))
        sent += send_copies(session, alert, alert_recipients(session, ids, escalated=True), f"alert-{alert.key}-state",
                            escalated, sms_text=partial(escalated, bodies=sms_bodies))
        alert.resent_at = alert.escalated_at = now
    return sent


# --- acknowledging ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Ack:
    outcome: str  # acked | already | unknown
    by: str = ""
    at: datetime | None = None
    alert: CoordinatorAlert | None = None


def acknowledge(session: Session, alert_id: int, by: Staff, now: datetime) -> Ack:
    """The first acknowledgement counts; everyone else who got the alert is told who took it."""
    alert = session.get(CoordinatorAlert, alert_id)
    if alert is None:
        return Ack("unknown")
    if alert.acked_at is not None:
        first = session.get(Staff, alert.acked_by) if alert.acked_by else None
        return Ack("already", first.name if first else "?", as_utc(alert.acked_at), alert)
    alert.acked_at, alert.acked_by = now, by.id
    ids = site_ids_of(session, alert.site_codes)
    told = alert_recipients(session, ids) + (alert_recipients(session, ids, escalated=True) if alert.escalated_at
                                             else [])
    others = list({p.id: p for p in told if p.id != by.id}.values())
    codes = ", ".join(alert.site_codes) or "-"
    send_copies(session, alert, others, f"alert-{alert.key}-ack",
                lambda lang: render("alert.acknowledged", lang, who=by.name, code=codes), with_buttons=False)
    return Ack("acked", by.name, now, alert)
