"""Fixtures: one provider simulator per module, reset before each test."""

from __future__ import annotations

import pytest

from tests.support.simulator import simulator_fixture
from tests.support.worlds.simulator import ACCOUNT_SID, AUTH_TOKEN, CallbackReceiver, make_test_config
from tikabot.handlers.twilio_client import make_client


simulator = simulator_fixture(make_test_config)


@pytest.fixture
def sim(simulator):
    """The running simulator, with records and configuration reset."""
    simulator.sim.reset(config=True)
    return simulator


@pytest.fixture
def twilio(sim):
    client = make_client(ACCOUNT_SID, AUTH_TOKEN, sim.url, timeout=5.0)
    yield client
    client.http_client.close()


@pytest.fixture
def receiver():
    instance = CallbackReceiver()
    instance.thread.start()
    yield instance
    instance.server.shutdown()
    instance.server.server_close()
