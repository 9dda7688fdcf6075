"""For tests that send through a webhook: process what the inbox kept, and read the replies sent."""
from __future__ import annotations

from sqlalchemy import select

from tikabot.inbox.worker import burst
from tikabot.store.models import OutboundMessage

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'


def settle(services) -> int:
    """Process every message waiting in the inbox (what an inbox worker would do next)."""
    return burst(services)


def reply_to(services, provider_id: str) -> str | None:
    """The reply queued for the inbound message with this provider id (None: no reply)."""
    settle(services)
    with services.sessions() as s:
        return s.scalar(select(OutboundMessage.body).where(OutboundMessage.idempotency_key == f"reply-{provider_id}"))


def not_replies(*where):
    """A filter for outbox rows that are not replies to inbound messages."""
    return (OutboundMessage.priority != "reply", *where)
