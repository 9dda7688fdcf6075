"""Fixtures for the send pipeline: the provider simulator, our web app on a real loopback port
(status callbacks reach /sms/status for real, signed), a worker run in this process."""
from __future__ import annotations

import dataclasses
import threading
import time

import pytest
from simulator_fixture import simulator_fixture
from job_drain import JobDrain
from werkzeug.serving import make_server

from tikabot.handlers.twilio_client import make_client
from tikabot.outbox import transport
from tikabot.queue import runtime
from tikabot.queue.status_poll import poll_stuck
from tikabot.queue.relay import Relay
from tikabot.queue.settings import SendSettings
from tikabot.services import Services
from tikabot.simulator.config import FaultConfig

TEST_ACCOUNT_SID = "AC" + "1" * 32  # as in tests/conftest.py's config fixture
TEST_AUTH_TOKEN = "test-auth-token-0123456789abcdef"
FAST = SendSettings(lease_s=8.0, retry_base_s=0.05, slow_retry_base_s=0.05, retry_cap_s=0.2,
                    voice_after_s=0.5, relay_interval_s=0.1, stale_s=1.0, account_pause_s=1.0,
                    recheck_after_s=0.1)


simulator = simulator_fixture(lambda: FaultConfig(
    account_sid=TEST_ACCOUNT_SID, auth_token=TEST_AUTH_TOKEN, seed=3, sent_delay_s=0.01, delivered_delay_s=0.02,
    timeout_sleep_s=4.0, callback_retries=2, callback_retry_delay_s=0.05))


@pytest.fixture
def sim(simulator):
    simulator.sim.reset(config=True)
    return simulator.sim


class LiveApp:
    """Our Flask app served on a loopback port, so the simulator's callbacks reach it."""

    def __init__(self, config):
        from tikabot.app import create_app

        sock_probe = make_server("127.0.0.1", 0, lambda environ, start: [])
        port = sock_probe.server_port
        sock_probe.server_close()
        self.url = f"http://127.0.0.1:{port}"
        self.config = dataclasses.replace(config, public_base_url=self.url)
        self.app = create_app(self.config)
        self.app.extensions["tikabot_send_settings"] = FAST
        self.server = make_server("127.0.0.1", port, self.app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.app.extensions["tikabot"].close()


@pytest.fixture
def live(config, simulator):
    app = LiveApp(dataclasses.replace(config, twilio_api_base=simulator.url, twilio_timeout=2.5,
                                      send_rate=1000.0))
    yield app
    app.stop()


@pytest.fixture
def pipeline(live):
    """Services + an installed runtime with fast retry settings; `.drain()` runs the worker."""
    services = Services.build(live.config)
    rt = runtime.install(services, FAST)
    pipeline = Pipeline(services, rt)
    yield pipeline
    pipeline.close()
    runtime.uninstall()
    services.close()


class Pipeline:
    def __init__(self, services, rt):
        self.services, self.runtime = services, rt
        self.relay = Relay(services, rt.settings)
        self.jobs = JobDrain(services.redis)
        self.client = None

    def poll_status(self):
        """What the worker's periodic status poll does (its quiet time, and rechecks when due)."""
        if self.client is None:
            config = self.services.config
            self.client = make_client(config.twilio_account_sid, config.twilio_auth_token, config.twilio_api_base,
                                      timeout=5)
        return poll_stuck(self.services, self.client, settings=self.runtime.settings)

    def close(self):
        self.jobs.close()
        if self.client is not None:
            self.client.http_client.close()

    def drain(self):
        """What `tikabot worker` does: ready ids into jobs (its ready loop), then every job."""
        transport.move_all_ready(self.services.redis)
        self.jobs.run()

    def quiet(self) -> bool:
        """Nothing more can be sent: no outbox row waits to be sent (each is final or with the
        provider), and a relay pass (which re-queues anything lost or taken back) leaves no job. Asserted instead of waiting
        a while to see that nothing else happens."""
        from sqlalchemy import select

        from tikabot.store.models import OutboundMessage

        with self.services.sessions() as session:
            open_rows = session.scalars(select(OutboundMessage.id).where(
                OutboundMessage.status.in_(("pending", "sending")))).all()
        self.relay.run_once(force=True)
        transport.move_all_ready(self.services.redis)
        return not open_rows and self.jobs.run() == 0

    def settle(self, done, timeout=30.0, relay=True, status_poll=False):
        """Drain, relay (and with status_poll, ask the provider as the worker's periodic job does)
        and wait for callbacks until done() holds. The timeout only bounds a failing test: a busy
        machine makes each pass slower, never the outcome different."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.drain()
            if done():
                return True
            if relay:
                self.relay.run_once(force=True)
            if status_poll:
                self.poll_status()
            time.sleep(0.05)
        return done()
