"""An OTP a route took that never reports delivery (C-DAC) is not read out by a call after every
code: only an OTP that was not delivered where delivery is reported (or that failed) brings a call."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tikabot.core import handoffs
from tikabot.core.clock import now as utcnow
from tikabot.outbox.messages import add_message
from tikabot.queue.relay import voice_fallbacks
from tikabot.queue.settings import SendSettings
from tikabot.store.models import OutboundMessage


def otp_taken_by(services, route: str, status: str = "accepted") -> int:
    moment = utcnow()
    with services.transaction() as session:
        row = add_message(session, key=f"otp-{route}-{status}", recipient="+919830012345", template="otp.code",
                          params={"code": "482913", "minutes": 10}, priority="otp",
                          expires_at=moment + timedelta(minutes=10))
        row.status, row.attempts, row.created_at = status, 1, moment - timedelta(minutes=2)
        message_id = row.id
    handoffs.note(services.redis, message_id, 1, route)
    return message_id


def calls(services) -> list[str]:
    with services.sessions() as session:
        return list(session.scalars(select(OutboundMessage.idempotency_key).where(OutboundMessage.channel == "voice")))


@pytest.mark.parametrize("route, status, called", [
    ("cdac", "accepted", False),  # C-DAC never says more than accepted: no call after every code
    ("twilio", "accepted", True),  # Twilio reports delivery; two minutes without it: the call
    ("android:ranaghat", "sent", True),
    ("cdac", "failed", True),  # a failure on the silent route still brings the call
])
def test_a_voice_call_follows_an_otp_only_where_delivery_would_have_been_reported(services, route, status, called):
    message_id = otp_taken_by(services, route, status)
    with services.transaction() as session:
        made = voice_fallbacks(session, utcnow(), SendSettings(), services.redis)
    assert made == int(called)
    assert calls(services) == ([f"otp-{route}-{status}-voice"] if called else [])
    assert message_id
