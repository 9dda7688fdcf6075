"""Bulk pacing at SEND_RATE; OTPs pass the bulk queue; an undelivered OTP is read out by a call."""
from __future__ import annotations

import dataclasses
from datetime import timedelta

from sqlalchemy import select

from tikabot.core.clock import now
from tikabot.handlers.twilio_sms import TwilioSender
from tikabot.outbox.messages import add_message
from tikabot.core.throttle import Throttle
from tikabot.store.models import OutboundMessage

RATE = 200.0


def test_bulk_stays_within_one_percent_of_send_rate_in_any_second(pipeline, sim):
    services = pipeline.services
    pipeline.runtime.throttle = Throttle(services.redis, RATE, "+15005550006")
    # No status callbacks here: this process also plays the provider and our web app, and
    # their work on callbacks would compete with the sender for the interpreter.
    pipeline.runtime.senders["sms"] = TwilioSender(dataclasses.replace(services.config, public_base_url=None))
    with services.transaction() as session:
        for i in range(700):
            add_message(session, key=f"b{i}", recipient=f"+9198301{i:05d}", template="otp.code",
                        params={"code": "123456", "minutes": 10}, priority="bulk")
    pipeline.drain()
    times = sorted(m["created"] for m in sim.messages())
    assert len(times) == 700
    busiest, j = 0, 0
    for i, start in enumerate(times):  # every window of one second starting at a send
        while j < len(times) and times[j] < start + 1.0:
            j += 1
        busiest = max(busiest, j - i)
    assert busiest <= RATE * 1.01


def test_undelivered_otp_falls_back_to_a_voice_call_in_the_beneficiarys_language(pipeline, sim):
    services = pipeline.services
    sim.configure(recipient_delivery_errors={"+919830012345": 30006})
    with services.transaction() as session:
        sms = add_message(session, key="otp-1", recipient="+919830012345", template="otp.code", language="bn",
                          params={"code": "482913", "minutes": 10}, priority="otp",
                          expires_at=now() + timedelta(minutes=10))
    assert pipeline.settle(lambda: len(sim.calls()) == 1)
    [call] = sim.calls()
    assert call["to"] == "+919830012345"
    assert '<Say language="bn-IN">' in call["twiml"] and "4 8 2 9 1 3" in call["twiml"]
    assert pipeline.quiet()  # nothing left that could send it again
    assert len(sim.calls()) == 1
    with services.sessions() as session:
        voice = session.scalar(select(OutboundMessage).where(OutboundMessage.channel == "voice"))
        assert voice.idempotency_key == "otp-1-voice" and voice.status == "sent"
        assert session.get(OutboundMessage, sms.id).status == "failed"


def test_bulk_whose_turn_comes_after_the_lease_window_goes_back_unsent_and_is_sent_once(pipeline, sim):
    """Workers share the pace: when others have booked it ahead, this worker's late messages are
    handed back instead of sent at the very end of their lease (where another worker could send
    them too)."""
    services = pipeline.services
    count = 30
    with services.transaction() as session:
        for i in range(count):
            add_message(session, key=f"late{i}", recipient=f"+9198302{i:05d}", template="otp.code",
                        params={"code": "123456", "minutes": 10}, priority="bulk")
    pipeline.runtime.throttle = throttle = Throttle(services.redis, 10.0, "+15005550006")
    throttle.reserve(25)  # another worker holds the next 2.5 s of the pace
    # The job's sending window (FAST: lease 8 s, less twice the 2.5 s timeout) is 3 s from its claim:
    # the turns from 2.5 s on that fit go out, the rest (30 turns take 3 s more) are handed back
    # and go out in the next job. However late a busy machine starts the job (up to 2.5 s), some
    # turns fall on each side of the window's end.
    assert pipeline.settle(lambda: len(sim.messages()) == count, timeout=60)
    assert sorted(m["to"] for m in sim.messages()) == sorted(f"+9198302{i:05d}" for i in range(count))
    with services.sessions() as session:
        rows = session.scalars(select(OutboundMessage)).all()
    handed_back = [m for m in rows if m.last_error_code == "late"]
    assert 0 < len(handed_back) < count
    assert all(m.attempts == 1 for m in rows)  # a turn given back is not an attempt
