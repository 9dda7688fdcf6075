"""Alerts to coordinators. They go through the outbox like every message, so they are retried.

A coordinator with a Telegram user id gets alerts in Telegram; one without gets them by SMS.
`key` makes an alert idempotent: the same key never alerts the same coordinator twice, which is
also how a bad hour becomes one grouped message (key it by the hour) instead of hundreds.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tikabot.queue.outbox import add_message
from tikabot.store.models import OutboundMessage, Staff


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
