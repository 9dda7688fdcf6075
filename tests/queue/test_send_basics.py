"""Outbox -> RQ -> Twilio client -> simulator -> signed status callback -> delivered."""
from __future__ import annotations

from datetime import timedelta


from tikabot.core.clock import now
from tikabot.outbox.messages import add_message
from tikabot.store.models import OutboundMessage

BN_PHONE = "+919830012345"


def add(services, key="m1", recipient=BN_PHONE, **kw):
    with services.transaction() as session:
        params = kw.pop("params", None) or {"code": "482913", "minutes": 10}
        message = add_message(session, key=key, recipient=recipient, template=kw.pop("template", "otp.code"),
                              language=kw.pop("language", "bn"), params=params, **kw)
        return message.id


def row(services, message_id):
    with services.sessions() as session:
        return session.get(OutboundMessage, message_id)


def test_otp_is_sent_once_with_validity_and_callback_and_ends_delivered(pipeline, sim, live):
    services = pipeline.services
    message_id = add(services, priority="otp", expires_at=now() + timedelta(minutes=10))
    assert pipeline.settle(lambda: row(services, message_id).status == "delivered")
    [received] = sim.messages()
    assert received["to"] == BN_PHONE and "482913" in received["body"]
    assert 590 <= received["validity_period"] <= 600
    assert received["status_callback"] == f"{live.url}/sms/status?id={message_id}&attempt=1"
    stored = row(services, message_id)
    assert stored.provider_id == received["sid"] and stored.attempts == 1
    assert (stored.encoding, stored.segments) == ("UCS-2", 1)
    assert stored.delivered_at is not None


def test_adding_the_same_key_twice_sends_one_message(pipeline, sim):
    services = pipeline.services
    first = add(services, key="same")
    second = add(services, key="same")
    assert first == second
    assert pipeline.settle(lambda: row(services, first).status == "delivered")
    assert len(sim.messages()) == 1


def test_an_otp_past_expiry_is_never_sent(pipeline, sim):
    services = pipeline.services
    message_id = add(services, priority="otp", expires_at=now() - timedelta(seconds=1))
    assert pipeline.settle(lambda: row(services, message_id).status == "expired")
    assert sim.messages() == []
