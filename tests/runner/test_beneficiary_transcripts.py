"""Beneficiary replies through the real runner: appointment changes, opt-out, loop guard, rate limit."""
from __future__ import annotations

from sqlalchemy import select

from tests.support.worlds.runner import AMIT_PHONE, STRANGER, VACCINATOR, transcript
from tikabot.store.models import Appointment, Beneficiary, InboundMessage
from tikabot.runner.guards import RATE_LIMITS

PAUSE = "No more automatic replies for 10 minutes. YES, NO and STOP still work."


def test_yes_no_stop_start(say, world):
    transcript(say, AMIT_PHONE, [
        ("yes", "Thank you. Your appointment is confirmed: 14 Jun, 11 am-1 pm at Barasat SDH."),
        ("STOP", "You will get no more reminders. Codes and confirmations still come. Send START to get reminders again."),
    ])
    with world.transaction() as s:
        assert s.scalar(select(Appointment.status).join(Beneficiary).where(Beneficiary.phone == AMIT_PHONE)) == "confirmed"
        assert s.scalar(select(Beneficiary.opted_out).where(Beneficiary.phone == AMIT_PHONE)) is True
    transcript(say, AMIT_PHONE, [
        ("START", "Reminders are on again. Send STOP to turn them off."),
        ("2", "Your appointment on 14 Jun is still booked. To cancel it, reply NO."),  # "2" is also a dose
        ("cancel", "Your appointment on 14 Jun is cancelled. To book again, contact your health worker.\n" + PAUSE),
    ])  # the 5th automatic reply
    with world.transaction() as s:
        assert s.scalar(select(Appointment.status).join(Beneficiary).where(Beneficiary.phone == AMIT_PHONE)) == "cancelled"
        assert s.scalar(select(Beneficiary.opted_out).where(Beneficiary.phone == AMIT_PHONE)) is False


def test_unregistered_phone_gets_help_in_the_language_of_its_text(say):
    assert say(STRANGER, "hello").startswith("You have no upcoming appointment.")
    assert say("+919830088888", "টিকা কবে?").startswith("আপনার কোনো আসন্ন")
    assert any("\u0900" <= ch <= "\u097f" for ch in say("+919830077777", "टीका कब है"))


def test_loop_guard_stops_after_five_automatic_replies(say, world):
    replies = [say(STRANGER, f"auto-reply {i}", minutes=i) for i in range(7)]
    assert all(replies[:5]) and replies[5:] == [None, None]
    assert not any(PAUSE in r for r in replies[:4])
    assert replies[4].endswith("\n" + PAUSE)  # the last reply says why no more come
    assert say(AMIT_PHONE, "hello") is not None  # counted per sender
    with world.transaction() as s:  # nothing accepted is lost: every message is recorded
        assert len(s.scalars(select(InboundMessage).where(InboundMessage.sender == STRANGER)).all()) == 7


def test_replays_of_a_message_do_not_use_up_the_loop_guard(say, world):
    """Twilio retries a webhook it got no answer to: the same MessageSid is one message."""
    first = say(STRANGER, "hello", sid="SM-hello")
    assert first is not None
    assert [say(STRANGER, "hello", sid="SM-hello") for _ in range(6)] == [first] * 6
    assert say(STRANGER, "hello again") is not None  # the second automatic reply, not the eighth


def test_rate_limit_per_sender(say, world):
    for i in range(RATE_LIMITS["staff"][0]):
        assert say(VACCINATOR, "HELP") is not None
    assert say(VACCINATOR, "DOSE 12345678 CS L1") == "Too many messages. Please wait a few minutes."
    assert say(VACCINATOR, "DOSE 12345678 CS L1") is None
    with world.transaction() as s:
        assert s.scalars(select(InboundMessage).where(InboundMessage.sender == VACCINATOR)).all()[-1].body == (
            "DOSE 12345678 CS L1")


def test_a_bare_2_keeps_the_booking(say, world):
    """Someone booked for dose 2 answers "2" (or "২"): the slot stays theirs."""
    transcript(say, AMIT_PHONE, [
        ("২", "Your appointment on 14 Jun is still booked. To cancel it, reply NO."),
        ("No, I will come", "Your appointment on 14 Jun is still booked. To cancel it, reply NO."),
    ])
    with world.transaction() as s:
        assert s.scalar(select(Appointment.status).join(Beneficiary).where(Beneficiary.phone == AMIT_PHONE)) == "booked"
