"""A SEVERE adverse event: at once, on the fastest lane, to everyone who answers for the site.

SMS copies are what SEVERE relies on; Telegram is a second path. Reports of the same beneficiary and
site close together are counted into one alert (alerts/severe_window.py). The two copies end
differently: Telegram's tells the reader to press its Acknowledge button, the SMS copy (which has
no button) says what to do by phone (alert.next_severe_sms). The symptom a USSD menu recorded and
the time are in the reader's language (symptom.*, dates.Clock); a note typed by staff stays as typed."""
from __future__ import annotations

from dataclasses import dataclass

from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from tikabot.alerts.state import (
    alert_recipients, buttons as alert_buttons, site_line,
)
from tikabot.core.clock import as_utc
from tikabot.i18n.catalog import LANGUAGES, render
from tikabot.i18n.dates import Clock
from tikabot.i18n.places import place_name
from tikabot.alerts import severe_window
from tikabot.outbox.messages import add_message
from tikabot.store.models import (
    AdverseEvent, Beneficiary, CoordinatorAlert, OutboundMessage, Site, Staff,
)


NEXT_STEP = {"telegram": "alert.next_severe", "sms": "alert.next_severe_sms"}  # only Telegram has buttons


@dataclass(frozen=True)
class Symptom:
    """An event's note: a symptom a USSD menu recorded ("fainting") in the reader's words
    (symptom.fainting); anything else (a note typed by staff) as it was typed."""
    note: str

    def localize(self, lang: str) -> str:
        try:
            return render("symptom." + self.note.replace(" ", "_"), lang)
        except KeyError:  # not one of the menu's symptoms
            return self.note


def severe_recipients(session: Session, site_id: int | None) -> list[Staff]:
    """Who answers for a SEVERE side effect at a site: the site and district coordinators whose scope
    covers it (the state level hears of it if nobody acts; at once when nobody else covers the site);
    for an event of no site, the district coordinators of no site."""
    if site_id is not None:
        return alert_recipients(session, [site_id])
    district = Staff.level.is_(None) | (Staff.level != "state")
    return list(session.scalars(select(Staff).where(Staff.role == "coordinator", Staff.active.is_(True),
                                                    Staff.site_id.is_(None), district).order_by(Staff.id)))


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
    runs. The SMS copies are what SEVERE relies on; Telegram is a second path, not the only one.
    A report of the same beneficiary and site within severe_window.WINDOW of an alert is counted into
    that alert instead, and the messages returned are that alert's."""
    first = severe_window.open_alert(session, event)
    if first is not None:
        severe_window.count_into(first, event)
        return list(session.scalars(select(OutboundMessage).where(
            OutboundMessage.idempotency_key.like(f"alert-{first.key}-%")).order_by(OutboundMessage.id)))
    person = session.get(Beneficiary, event.beneficiary_id)
    site = session.get(Site, event.site_id) if event.site_id else None
    reporter, reporter_phone = _reporter(session, event.reported_by, person)
    params = {"site": place_name(site) if site else "?", "name": person.name if person else "?",
              "ref": person.ref if person else "?", "phone": person.phone if person else "?",
              "time": Clock(as_utc(event.created_at).astimezone(ZoneInfo(tz)).time().replace(second=0, microsecond=0)),
              "note": Symptom(event.note or "-")}

    key = severe_window.alert_key(event.id)
    record = session.scalar(select(CoordinatorAlert).where(CoordinatorAlert.key == key))
    if record is None:
        record = CoordinatorAlert(key=key, kind="severe", severity="severe", site_codes=[site.code] if site else [],
                                  raised_at=as_utc(event.created_at), detail={"priority": "otp", "sms_too": True, "event": event.id})
        session.add(record)
        session.flush()
    site_line = _severe_site_line(session, site)

    def text(language: str, channel: str = "telegram") -> str:
        who = reporter or render("alert.self_report", language)
        lines = [render("alert.severe", language, **{**params, "reporter": f"{who} {reporter_phone}"})]
        if site_line:
            lines.append(site_line(language))
        return "\n".join(lines + [render(NEXT_STEP[channel], language)])

    record.detail = {**record.detail, "bodies": {lang: text(lang) for lang in LANGUAGES},
                     "sms_bodies": {lang: text(lang, "sms") for lang in LANGUAGES}}

    def message(key: str, recipient: str, language: str, channel: str = "sms") -> OutboundMessage:
        return add_message(session, key=f"alert-aefi-{event.id}-{key}", recipient=recipient, template="alert.severe",
                           language=language, body=text(language, channel), priority="otp", channel=channel,
                           buttons=alert_buttons(record, language) if channel == "telegram" else None)

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


def _severe_site_line(session: Session, site: Site | None):
    if site is None:
        return None
    return lambda lang: site_line(session, site, lang)


