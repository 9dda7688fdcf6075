"""Fixtures for the send pipeline: the provider simulator, our web app on a real loopback port
(status callbacks reach /sms/status for real, signed), a worker run in this process."""
from __future__ import annotations

import dataclasses

import pytest

from tests.support.credentials import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN
from tests.support.pipeline import FAST, running_pipeline
from tests.support.simulator import simulator_fixture
from tikabot.simulator.config import FaultConfig

simulator = simulator_fixture(lambda: FaultConfig(
    account_sid=TEST_ACCOUNT_SID, auth_token=TEST_AUTH_TOKEN, seed=3, sent_delay_s=0.01, delivered_delay_s=0.02,
    timeout_sleep_s=4.0, callback_retries=2, callback_retry_delay_s=0.05))


@pytest.fixture
def sim(simulator):
    simulator.sim.reset(config=True)
    return simulator.sim


@pytest.fixture
def live(config, simulator, start_live_app):
    return start_live_app(dataclasses.replace(config, twilio_api_base=simulator.url, twilio_timeout=2.5,
                                              send_rate=1000.0), FAST)


@pytest.fixture
def pipeline(live):
    """Services + an installed runtime with fast retry settings; `.drain()` runs the worker."""
    with running_pipeline(live.config) as pipeline:
        yield pipeline
