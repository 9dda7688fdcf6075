"""Messages whose status callbacks never came are settled by asking the provider."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from tikabot.core.clock import now
from tikabot.handlers.twilio_client import make_client
from tikabot.outbox.messages import add_message
from tikabot.queue.status_poll import poll_stuck
from tikabot.store.models import OutboundMessage

PHONE = "+919830012345"


def lose_callbacks(services, message_id):
    """As if the callbacks after `accepted` never reached us, ten minutes ago."""
    with services.transaction() as session:
        session.execute(update(OutboundMessage).where(OutboundMessage.id == message_id).values(
            status="accepted", delivered_at=None, updated_at=now() - timedelta(minutes=11)))


@pytest.mark.parametrize("delivery_error, final", [(None, "delivered"), (30005, "failed")])
def test_a_message_left_accepted_is_settled_from_the_provider(pipeline, sim, live, delivery_error, final):
    if delivery_error:
        sim.configure(recipient_delivery_errors={PHONE: delivery_error})
    with pipeline.services.transaction() as session:
        message_id = add_message(session, key="m1", recipient=PHONE, template="otp.code", language="en",
                                 params={"code": "482913", "minutes": 10}).id

    def stored():
        with pipeline.services.sessions() as session:
            return session.get(OutboundMessage, message_id)

    assert pipeline.settle(lambda: stored().status == final)
    lose_callbacks(pipeline.services, message_id)
    config = live.config
    client = make_client(config.twilio_account_sid, config.twilio_auth_token, live.config.twilio_api_base, timeout=5)
    try:
        assert poll_stuck(pipeline.services, client) == 1
        assert poll_stuck(pipeline.services, client) == 0  # settled: nothing left to ask about
    finally:
        client.http_client.close()
    assert stored().status == final
    assert len(sim.messages()) == 1  # asking never sends again


def test_a_message_still_within_its_quiet_time_is_not_asked_about(pipeline, sim, live):
    with pipeline.services.transaction() as session:
        add_message(session, key="m2", recipient=PHONE, template="otp.code", language="en",
                    params={"code": "482913", "minutes": 10})
        session.execute(update(OutboundMessage).values(status="accepted", provider_id="SM" + "0" * 32,
                                                       updated_at=now()))
    client = make_client(live.config.twilio_account_sid, live.config.twilio_auth_token, live.config.twilio_api_base, timeout=5)
    try:
        assert poll_stuck(pipeline.services, client) == 0
    finally:
        client.http_client.close()


def test_a_copy_the_provider_check_found_on_its_way_is_asked_about_when_its_recheck_is_due(pipeline, sim, live):
    """Its callbacks went to an earlier attempt and may have been missed: one look soon after,
    not after the ten-minute quiet time; and only once it is due."""
    from tikabot.queue import recheck

    services = pipeline.services
    with services.transaction() as session:
        message_id = add_message(session, key="m3", recipient=PHONE, template="otp.code", language="en",
                                 params={"code": "482913", "minutes": 10}).id
    def status():
        with services.sessions() as session:
            return session.get(OutboundMessage, message_id).status

    assert pipeline.settle(lambda: status() == "delivered")
    with services.transaction() as session:  # as the provider check left it: on its way, just now
        session.execute(update(OutboundMessage).where(OutboundMessage.id == message_id).values(
            status="sent", delivered_at=None, updated_at=now()))
    recheck.ask_soon(services.redis, [message_id], now() + timedelta(seconds=30))
    assert pipeline.poll_status() == 0  # not due yet
    recheck.ask_soon(services.redis, [message_id], now())
    assert pipeline.poll_status() == 1
    assert pipeline.poll_status() == 0  # settled: nothing left to ask about
    assert status() == "delivered"
    assert len(sim.messages()) == 1
