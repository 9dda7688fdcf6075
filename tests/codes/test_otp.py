"""VERIFY / OTP through the runner, and the OTP service's limits."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from tests.support.worlds.runner import HI_STAFF, NOW, RAHIMA_PHONE, VACCINATOR
from tikabot.codes import otp
from tikabot.outbox.sealing import of_session, readable
from tikabot.store.models import Beneficiary, OtpRecord, OutboundMessage


def _last_code(world) -> str:
    with world.transaction() as s:
        message = s.scalars(select(OutboundMessage).where(OutboundMessage.template == "otp.code")
                            .order_by(OutboundMessage.id.desc())).first()
        text = readable(message.body, message.sealed_body, of_session(s))  # the body itself shows ******
    return re.search(r"[0-9]{6}", text).group()


def test_verify_sends_a_code_on_the_otp_queue(say, world):
    assert say(VACCINATOR, "VERIFY 12345678") == (
        "Code sent to +91********11 for 12345678. Ask for it, then send OTP 12345678 <CODE>.")
    with world.transaction() as s:
        message = s.scalar(select(OutboundMessage))
        record = s.scalar(select(OtpRecord))
    assert (message.priority, message.recipient, message.idempotency_key) == ("otp", RAHIMA_PHONE, f"otp-{record.id}")
    assert message.expires_at == record.expires_at == NOW.replace(minute=10)
    code = _last_code(world)
    assert code not in record.code_hash and len(record.code_hash) == 64
    assert say(VACCINATOR, f"OTP 12345678 {code}") == "Verified: 12345678 (Rahima)."
    assert say(VACCINATOR, f"OTP 12345678 {code}") == "No code was sent for 12345678. Send VERIFY 12345678 first."


def test_wrong_codes_lock_after_five(say, world):
    say(VACCINATOR, "VERIFY 12345678")
    code = _last_code(world)
    wrong = "000000" if code != "000000" else "111111"
    for left in (4, 3, 2, 1):
        assert say(VACCINATOR, f"OTP 12345678 {wrong}") == (f"Wrong code. {left} tries left." if left != 1 else "Wrong code. 1 try left.")
    assert say(VACCINATOR, f"OTP 12345678 {wrong}") == "Too many wrong codes. Try again after 30 minutes."
    assert say(VACCINATOR, f"OTP 12345678 {code}", minutes=1) == "Too many wrong codes. Try again after 29 minutes."


def test_code_expires_after_ten_minutes(say, world):
    say(VACCINATOR, "VERIFY 12345678")
    assert say(VACCINATOR, f"OTP 12345678 {_last_code(world)}", minutes=10) == (
        "Code expired. Send VERIFY <REF> for a new one.")


def test_security_code_from_the_appointment_sms_is_accepted(say):
    assert "12345678" in say(HI_STAFF, "OTP 12345678 4321")
    assert say(VACCINATOR, "OTP 12345678 4321") == "Verified: 12345678 (Rahima)."
    assert say(VACCINATOR, "OTP 23456789 4321") == "Wrong code. 4 tries left."


def test_a_new_code_does_not_give_a_security_code_guesser_more_tries(say):
    for left in (4, 3, 2, 1):
        assert say(VACCINATOR, "OTP 23456789 1111", minutes=1) == (f"Wrong code. {left} tries left." if left != 1 else "Wrong code. 1 try left.")
    assert say(VACCINATOR, "VERIFY 23456789", minutes=2).startswith("Code sent")
    assert say(VACCINATOR, "OTP 23456789 2222", minutes=3) == "Too many wrong codes. Try again after 30 minutes."
    assert say(VACCINATOR, "OTP 23456789 8765", minutes=4).startswith("Too many wrong codes")  # even the right one


def test_at_most_three_codes_per_beneficiary_in_ten_minutes(say):
    for minute in range(3):
        assert say(VACCINATOR, "VERIFY 12345678", minutes=minute).startswith("Code sent")
    assert say(VACCINATOR, "VERIFY 12345678", minutes=3) == (
        "Too many codes sent. Try again in 7 minutes, or use the 4-digit security code from the appointment SMS.")
    assert say(VACCINATOR, "VERIFY 12345678", minutes=10.5).startswith("Code sent")


def test_at_most_thirty_verify_per_staff_phone_per_hour(world):
    with world.transaction() as s:
        people = [Beneficiary(ref=f"7000000{i:02d}", name=f"Person {i}", phone=f"+9198300700{i:02d}", language="en")
                  for i in range(11)]
        s.add_all(people)
        s.flush()
        results = [otp.issue(s, beneficiary=p, staff_phone=VACCINATOR, secret="k", now=NOW + timedelta(minutes=i))
                   for i, p in enumerate(people[:10]) for _ in range(3)]
        assert all(r.ok for r in results) and len(results) == 30
        refused = otp.issue(s, beneficiary=people[10], staff_phone=VACCINATOR, secret="k", now=NOW + timedelta(minutes=20))
        assert not refused.ok and refused.retry_minutes == 40
        later = otp.issue(s, beneficiary=people[10], staff_phone=VACCINATOR, secret="k", now=NOW + timedelta(minutes=61))
        assert later.ok


def test_code_hash_is_keyed_and_codes_are_six_digits():
    assert otp.code_hash("a", 1, "123456") != otp.code_hash("b", 1, "123456")
    assert all(re.fullmatch(r"[0-9]{6}", otp.new_code()) for _ in range(200))


def test_a_lock_holds_across_new_codes(say, world):
    """Five wrong OTPs lock the beneficiary: a new VERIFY gives no fresh five tries, and even the new
    code is refused until the lock ends."""
    say(VACCINATOR, "VERIFY 12345678")
    wrong = "000000" if _last_code(world) != "000000" else "111111"
    for _ in range(5):
        say(VACCINATOR, f"OTP 12345678 {wrong}")
    assert say(VACCINATOR, "VERIFY 12345678", minutes=1).startswith("Code sent")
    assert say(VACCINATOR, f"OTP 12345678 {_last_code(world)}", minutes=2) == (
        "Too many wrong codes. Try again after 28 minutes.")
    assert say(VACCINATOR, "VERIFY 12345678", minutes=31).startswith("Code sent")
    assert say(VACCINATOR, f"OTP 12345678 {_last_code(world)}", minutes=31) == "Verified: 12345678 (Rahima)."


def test_wrong_codes_count_across_codes(say, world):
    """Four wrong tries on one code and one on the next make five: locked."""
    say(VACCINATOR, "VERIFY 12345678")
    for left in (4, 3, 2, 1):
        assert say(VACCINATOR, f"OTP 12345678 {_not(_last_code(world))}") == (f"Wrong code. {left} tries left." if left != 1 else "Wrong code. 1 try left.")
    say(VACCINATOR, "VERIFY 12345678", minutes=1)
    assert say(VACCINATOR, f"OTP 12345678 {_not(_last_code(world))}", minutes=1) == (
        "Too many wrong codes. Try again after 30 minutes.")


def _not(code: str) -> str:
    return "000000" if code != "000000" else "111111"
