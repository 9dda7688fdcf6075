"""Alerts to coordinators. They go through the outbox like every message, so they are retried.

A coordinator with a Telegram user id gets alerts in Telegram; one without gets them by SMS.
`key` makes an alert idempotent: the same key never alerts the same coordinator twice, which is
also how a bad hour becomes one grouped message (key it by the hour) instead of hundreds.

Where alerts are raised: the periodic checks (alerts/checks.py), a SEVERE side effect
(alerts/severe.py), manual mode and broadcasts (bot/actions.py), routes and accounts
(queue/routes/alerts.py), final send failures (queue/relay.py), records the registry has not taken
(registry/stale.py), a staff phone paused for guessing (runner/probes.py), and spooled webhooks
set aside (inbox/accept.py). What an alert a coordinator can act on carries (buttons,
acknowledgement, escalation) is alerts/state.py.
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable


from sqlalchemy.orm import Session

from tikabot.alerts.state import (
    alert_recipients, district_coordinators,
)
from tikabot.core.clock import local_date
from tikabot.i18n.catalog import render
from tikabot.i18n.places import place_name
from tikabot.outbox.messages import add_message
from tikabot.store.models import (
    OutboundMessage, Site, Staff,
)


def coordinators(session: Session) -> list[Staff]:
    """The district's coordinators (state coordinators get only what is escalated to them)."""
    return district_coordinators(session)


def alert_coordinators(session: Session, *, key: str, template: str, params: dict | Callable[[str], dict],
                       priority: str = "default", site_id: int | None = None) -> list[OutboundMessage]:
    """params, or params(language) when a param is a word the reader reads in their language. An
    alert about a site goes to the coordinators whose scope covers it (alert_state.alert_recipients)."""
    sent = []
    for person in coordinators(session) if site_id is None else alert_recipients(session, [site_id]):
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

    return alert_coordinators(session, key=key, template="alert.manual_mode", params=params, site_id=site.id)


def sms_count(messages: list[OutboundMessage]) -> int:
    return sum(1 for m in messages if m.channel == "sms")


def alert_spool_set_aside(session: Session, count: int, now: datetime, tz: str) -> list[OutboundMessage]:
    """Inbound messages the database could never store were set aside from the spool (answered
    2xx, not processed): once a day, so someone reads the dead-letter file and acts on them."""
    return alert_coordinators(session, key=f"spool-set-aside-{local_date(now, tz):%Y%m%d}",
                              template="alert.spool_set_aside", params={"count": count}, priority="otp")


