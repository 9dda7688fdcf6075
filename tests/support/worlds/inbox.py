"""For tests that send through a webhook: process what the inbox kept, and read the replies sent."""
from __future__ import annotations

from sqlalchemy import select

from tests.support.credentials import TWILIO_FROM
from tests.support.signing import twilio_post
from tikabot.inbox.worker import burst
from tikabot.store.models import OutboundMessage, Site, Staff

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'


def kalyani(services, *vaccinators: tuple[str, str, str]) -> int:
    """Kalyani PHC (KAL) and its vaccinators, each (phone, name, language); the site's id."""
    with services.transaction() as s:
        site = Site(code="KAL", name="Kalyani PHC")
        s.add(site)
        s.flush()
        s.add_all([Staff(phone=phone, name=name, role="vaccinator", site_id=site.id, language=language)
                   for phone, name, language in vaccinators])
        return site.id


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


def sms(client, sender: str, body: str, sid: str) -> str:
    """An SMS from `sender` through the real /sms/inbound (signed as Twilio signs it), processed;
    the reply it got ("" for none)."""
    params = {"MessageSid": sid, "From": sender, "To": TWILIO_FROM, "Body": body}
    response = twilio_post(client, "/sms/inbound", params)
    assert response.status_code == 200, response.get_data(as_text=True)
    return reply_to(client.application.extensions["tikabot"], sid) or ""
