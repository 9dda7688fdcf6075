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


def with_simulated_cdac(config, simulator, **more):
    """config sending Twilio and C-DAC (MSDG) to the simulator, with the simulator's MSDG account."""
    import dataclasses

    from tikabot.simulator.config import FaultConfig

    account = FaultConfig()
    return dataclasses.replace(
        config, twilio_api_base=simulator.url, twilio_timeout=2.5, send_rate=1000.0,
        cdac_username=account.cdac_username, cdac_password=account.cdac_password,
        cdac_secure_key=account.cdac_secure_key, cdac_sender_id="WBHLTH",
        cdac_api_url=f"{simulator.url}/esms/sendsmsrequestDLT", **more)
