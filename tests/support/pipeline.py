"""The send pipeline run in the test's own process: the relay, the ready lists and one kept worker,
with retry settings fast enough for a test."""
from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import select

from tests.support.jobs import JobDrain
from tests.support.waiting import wait_for
from tikabot.handlers.twilio_client import make_client
from tikabot.outbox import transport
from tikabot.queue import runtime
from tikabot.queue.relay import Relay
from tikabot.queue.settings import SendSettings
from tikabot.queue.status_poll import poll_stuck
from tikabot.services import Services
from tikabot.store.models import OutboundMessage

FAST = SendSettings(lease_s=8.0, retry_base_s=0.05, slow_retry_base_s=0.05, retry_cap_s=0.2,
                    voice_after_s=0.5, relay_interval_s=0.1, stale_s=1.0, account_pause_s=1.0,
                    recheck_after_s=0.1)


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
        def one_pass():
            self.drain()
            if done():
                return
            if relay:
                self.relay.run_once(force=True)
            if status_poll:
                self.poll_status()

        return bool(wait_for(done, timeout, step=one_pass, interval=0.05))


@contextmanager
def running_pipeline(config, settings: SendSettings = FAST):
    """Services + an installed runtime with `settings`; `.drain()` runs the worker."""
    services = Services.build(config)
    rt = runtime.install(services, settings)
    pipeline = Pipeline(services, rt)
    try:
        yield pipeline
    finally:
        pipeline.close()
        runtime.uninstall()
        services.close()


def outbound_rows(services: Services, ids=None) -> list[OutboundMessage]:
    """The outbox rows with these ids (every row when None), oldest first, read in a session of their own."""
    with services.sessions() as session:
        query = select(OutboundMessage).order_by(OutboundMessage.id)
        if ids is not None:
            query = query.where(OutboundMessage.id.in_(ids))
        return list(session.scalars(query))
