"""The provider simulator (gateway phones and Exotel) and our app on a loopback port, so the
simulator's webhooks and callbacks reach the real endpoints."""
from __future__ import annotations

import dataclasses

import pytest

from tests.support.credentials import EXOTEL_CALLBACK_TOKEN
from tests.support.simulator import simulator_fixture
from tikabot.config import GatewayPhone
from tikabot.simulator.config import FaultConfig

NOWHERE = "http://127.0.0.1:9"  # the discard port: nothing listens, a connection is refused at once
PHONES = {
    "ranaghat": {"username": "sms", "password": "ranaghat-pw", "signing_key": "key-ranaghat"},
    "kalyani": {"username": "sms", "password": "kalyani-pw", "signing_key": "key-kalyani"},
}

simulator = simulator_fixture(lambda: FaultConfig(
    seed=5, sent_delay_s=0.01, delivered_delay_s=0.02, timeout_sleep_s=3.0, callback_retries=1,
    callback_retry_delay_s=0.05, smsgate_phones={k: dict(v) for k, v in PHONES.items()}))


@pytest.fixture
def channel_config(config, simulator):
    phones = tuple(GatewayPhone(id=name, url=f"{simulator.url}/smsgate/{name}", per_minute=6000.0, **creds)
                   for name, creds in PHONES.items())
    # the simulator calls back whatever public URL a send names: without the live app, a loopback port
    # where nothing listens (the tests' own https://tikabot.example.org would send it to the internet)
    return dataclasses.replace(
        config, public_base_url=NOWHERE, smsgate_phones=phones, smsgate_timeout=2.0, twilio_timeout=2.0,  # well above a busy machine's answer; "timeout" holds 3 s
        exotel_account_sid="simexotel", exotel_api_key="simulator-exotel-key",
        exotel_api_token="simulator-exotel-token", exotel_api_base=simulator.url, exotel_sender="WBHLTH",
        exotel_exophone="08047112233", exotel_call_flow_url="http://my.exotel.com/simexotel/exoml/start_voice/42",
        exotel_callback_token=EXOTEL_CALLBACK_TOKEN)


@pytest.fixture
def live(channel_config, simulator, start_live_app):
    app = start_live_app(channel_config)
    hooks = {name: f"{app.url}/channels/smsgate" for name in PHONES}
    simulator.sim.reset(config=True)
    simulator.sim.configure(smsgate_phones={k: {**v, "webhook_url": hooks[k]} for k, v in PHONES.items()})
    return app


@pytest.fixture
def sim(simulator):
    simulator.sim.reset(config=True)
    return simulator.sim
