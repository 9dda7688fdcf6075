"""Codes at rest (outbox/sealing.py): the outbox never shows a code, the phone gets it, and once the
message is final nothing in the database can give it back."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, text

from tikabot.core.clock import now
from tikabot.outbox.messages import add_message
from tikabot.outbox.sealing import Sealer, masked_params, of_session, readable
from tikabot.store.models import OutboundMessage

PHONE = "+919830012345"


def _row(services, key):
    with services.sessions() as session:
        return session.scalar(select(OutboundMessage).where(OutboundMessage.idempotency_key == key))


def _anywhere(services, code: str) -> bool:
    """The code in any column of any outbox row, read as raw SQL."""
    with services.engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM outbound_messages")).all()
    return any(code in str(value) for row in rows for value in row)


def test_an_otp_is_masked_in_the_outbox_sent_in_full_and_gone_once_delivered(pipeline, sim):
    services = pipeline.services
    with services.transaction() as session:
        add_message(session, key="otp-1", recipient=PHONE, template="otp.code", language="bn",
                    params={"code": "482913", "minutes": 10}, priority="otp", expires_at=now() + timedelta(minutes=10))
        add_message(session, key="appt-1", recipient=PHONE, template="appt.booked", language="en",
                    params={"name": "Rahima", "date": "4 Mar", "slot": "09:00-11:00", "site": "Kalyani PHC",
                            "code": "4321"})
    stored = _row(services, "otp-1")
    assert "482913" not in stored.body and "******" in stored.body
    assert not _anywhere(services, "482913") and not _anywhere(services, "Security code 4321")
    assert "482913" in readable(stored.body, stored.sealed_body, of_session(session))
    assert pipeline.settle(lambda: {_row(services, k).status for k in ("otp-1", "appt-1")} == {"delivered"})
    bodies = sorted(m["body"] for m in sim.messages())
    assert any("482913" in b for b in bodies) and any("Security code 4321." in b for b in bodies)
    assert _row(services, "otp-1").sealed_body is None and _row(services, "appt-1").sealed_body is None
    assert "Security code ****." in _row(services, "appt-1").body


def test_a_voice_call_reads_the_code_that_the_outbox_does_not_show(pipeline, sim):
    services = pipeline.services
    sim.configure(recipient_delivery_errors={PHONE: 30006})
    with services.transaction() as session:
        add_message(session, key="otp-2", recipient=PHONE, template="otp.code", language="en",
                    params={"code": "739104", "minutes": 10}, priority="otp", expires_at=now() + timedelta(minutes=10))
    assert pipeline.settle(lambda: len(sim.calls()) == 1, timeout=10)
    assert "7 3 9 1 0 4" in sim.calls()[0]["twiml"]
    voice = _row(services, "otp-2-voice")
    assert not re.search(r"[0-9]", voice.body.replace("10", ""))  # "* * * * * *", nothing to read off
    assert not _anywhere(services, "739104") and not _anywhere(services, "7 3 9 1 0 4")


def test_past_its_expiry_an_unsent_code_is_scrubbed_by_the_relay(pipeline):
    services = pipeline.services
    with services.transaction() as session:
        add_message(session, key="otp-3", recipient=PHONE, template="otp.code", language="en",
                    params={"code": "111222", "minutes": 10}, priority="otp", expires_at=now() + timedelta(minutes=10))
    assert _row(services, "otp-3").sealed_body is not None
    assert pipeline.relay.run_once(now=now() + timedelta(minutes=11), force=True).scrubbed == 1
    assert _row(services, "otp-3").sealed_body is None


def test_sealing_is_keyed_by_otp_secret_and_masks_only_codes():
    token = Sealer("one").seal("482913 is your code")
    assert Sealer("one").unseal(token) == "482913 is your code" and Sealer("two").unseal(token) is None
    assert masked_params("otp.code", {"code": "482913", "minutes": 10}) == {"code": "******", "minutes": 10}
    assert masked_params("otp.voice", {"digits": "4 8 2"}) == {"digits": "* * *"}
    assert masked_params("alert.account_failure", {"code": "20003"}) is None  # an error code is no secret
