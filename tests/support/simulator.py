"""One way for any test module to get a provider simulator of its own."""
from __future__ import annotations

import pytest

from tikabot.simulator.server import SimulatorThread


def simulator_fixture(make_config):
    """A module-scoped `simulator` fixture: a SimulatorThread built from `make_config()`."""
    @pytest.fixture(scope="module")
    def simulator():
        with SimulatorThread(make_config()) as thread:
            yield thread
    return simulator
