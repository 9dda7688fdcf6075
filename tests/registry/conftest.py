"""The small district with a vaccinator and a coordinator, and the simulator as the upstream registry."""
from __future__ import annotations

import random

import pytest

from tests.support import wait_for
from tests.support.simulator import simulator_fixture
from tests.support.worlds.registry import COORDINATOR, TIMEOUT_S, VACCINATOR
from tests.support.worlds.runner import sayer
from tests.support.worlds.small_district import add_district
from tikabot.registry.client import FhirClient
from tikabot.registry.settings import RegistrySettings
from tikabot.registry.sync import sync_pass
from tikabot.simulator.config import FaultConfig
from tikabot.store.models import Staff


simulator = simulator_fixture(lambda: FaultConfig(fhir_timeout_sleep_s=TIMEOUT_S * 3))


@pytest.fixture
def world(services):
    with services.transaction() as s:
        kal = add_district(s).kal
        s.add_all([Staff(phone=VACCINATOR, name="Mita Roy", role="vaccinator", site_id=kal.id, language="en"),
                   Staff(phone=COORDINATOR, name="Dr Sen", role="coordinator", site_id=None, language="en")])
    return services


@pytest.fixture
def say(world):
    """say(phone, text, minutes=0) -> reply text, as the runner answers at NOW + minutes."""
    return sayer(world)


@pytest.fixture
def upstream(simulator):
    """The simulator's FHIR registry, emptied, with no faults queued; after the test, no request of
    its (a timeout fault still holding an answer) is left on its way."""
    simulator.sim.reset(config=True)
    yield simulator
    wait_for(lambda: not simulator.sim.fhir.in_flight, 10)


@pytest.fixture
def settings(upstream) -> RegistrySettings:
    return RegistrySettings(base_url=f"{upstream.url}/fhir", timeout_s=TIMEOUT_S, retry_base_s=0.01)


@pytest.fixture
def fhir(settings):
    client = FhirClient(settings.base_url, timeout_s=settings.timeout_s)
    yield client
    client.close()


@pytest.fixture
def sync_now(world, fhir, settings):
    """One sync pass, as the worker runs it; retries fall due at once (retry_base_s is tiny)."""
    def _sync(**kwargs):
        return sync_pass(world.sessions, fhir, settings, world.config.tz, rng=random.Random(1), **kwargs)
    return _sync
