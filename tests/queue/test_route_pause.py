"""An account error stops its own route only: the rest keeps sending, and the coordinators' alert
about it, going by Telegram, is never held by the pause it reports."""
from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from tests.support.pipeline import FAST, running_pipeline
from tikabot.core.clock import now
from tikabot.queue.routes import pause
from tikabot.outbox.messages import add_message
from tikabot.store.models import OutboundMessage, Staff

TG_TOKEN = "123456:route-pause-test-token"


@pytest.fixture
def pipeline(config, simulator, start_live_app):
    """The send pipeline with a Telegram bot on the simulator, and an account pause as long as in
    production (5 minutes): anything it held could not get through within the test."""
    live = start_live_app(dataclasses.replace(config, twilio_api_base=simulator.url, twilio_timeout=1.0,
                                              send_rate=1000.0, telegram_bot_token=TG_TOKEN,
                                              telegram_api_base=simulator.url))
    with running_pipeline(live.config, dataclasses.replace(FAST, account_pause_s=300.0)) as built:
        yield built


def test_a_twilio_account_error_holds_twilio_only_and_its_alert_reaches_telegram(pipeline, sim):
    services = pipeline.services
    with services.transaction() as session:
        session.add(Staff(phone="+919830000001", name="Coordinator", role="coordinator", language="en",
                          telegram_user_id=4242))
    sim.configure(check_auth=True, account_sid="AC" + "9" * 32)  # our Twilio credentials now fail: 20003
    with services.transaction() as session:
        otp = add_message(session, key="otp1", recipient="+919830012345", template="otp.code", language="en",
                          params={"code": "482913", "minutes": 10}).id

    def alerted() -> list[dict]:
        return [c for c in sim.telegram_calls("sendMessage") if "20003" in str(c)]

    assert pipeline.settle(lambda: bool(alerted()), timeout=20.0)
    text = str(alerted()[0])
    assert "twilio" in text and "None" not in text
    assert pause.paused_until(services.redis, "twilio", now()) is not None
    assert pause.paused_until(services.redis, "telegram", now()) is None
    with services.sessions() as session:
        held = session.get(OutboundMessage, otp)
        alerts = session.scalars(select(OutboundMessage).where(OutboundMessage.template == "alert.account_failure"))
        assert [(a.channel, a.status != "pending") for a in alerts] == [("telegram", True)]
    assert (held.status, held.attempts) == ("pending", 0)  # held, not spent: it goes when Twilio works again
