"""Nothing lost, nothing sent twice: Redis flushed mid-run, a worker dead mid-send."""
from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import timedelta

import pytest
from tikabot.stack.worker import Worker
from sqlalchemy import func, select

from tikabot.core.clock import now
from tikabot.handlers.twilio_sms import TwilioSender
from tikabot.outbox import transport
from tikabot.queue import ledger
from tikabot.outbox.messages import add_message
from tikabot.queue.senders import SENDERS
from tikabot.stack.worker import queues
from tikabot.store.models import OutboundMessage


def add_many(services, count, priority="default"):
    with services.transaction() as session:
        return [add_message(session, key=f"m{i}", recipient=f"+9198300{i:05d}", template="otp.code",
                            language="en", params={"code": f"{100000 + i}", "minutes": 10},
                            priority=priority).id for i in range(count)]


def statuses(services):
    with services.sessions() as session:
        return dict(session.execute(select(OutboundMessage.status, func.count()).group_by(OutboundMessage.status)).all())


def test_flushing_redis_mid_run_still_delivers_every_message_once(pipeline, sim):
    services = pipeline.services
    ids = add_many(services, 300)
    transport.move_all_ready(services.redis)  # the worker's ready loop
    Worker(queues(services.redis), connection=services.redis).work(burst=True, max_jobs=2,
                                                                         logging_level="ERROR")
    services.redis.flushall()
    assert pipeline.settle(lambda: statuses(services) == {"delivered": len(ids)}, timeout=60)
    per_recipient = Counter(m["to"] for m in sim.messages())
    assert len(per_recipient) == 300 and set(per_recipient.values()) == {1}


@pytest.mark.parametrize("provider_check,expected_copies", [(True, 1), (False, 2)])
def test_worker_dead_after_the_provider_call(pipeline, sim, provider_check, expected_copies):
    """A sender claims and sends, then dies before recording anything. When its lease runs
    out, the relay re-queues the messages; with the provider check the next sender finds them
    at the provider and sends nothing; without it every message goes twice."""
    services, rt = pipeline.services, pipeline.runtime
    # Delivery takes a moment, as on a real carrier, so the check finds the copies on their way
    # and settles them by asking again (their callbacks are lost) once that moment has passed.
    sim.configure(delivered_delay_s=0.5)
    rt.settings = dataclasses.replace(rt.settings, provider_check=provider_check, recheck_after_s=1.0)
    ids = add_many(services, 20)
    services.redis.flushall()  # the dead worker had taken the jobs
    start = now()
    with services.transaction() as session:
        claims, _, _ = ledger.claim(session, ids, now=start, lease_s=rt.settings.lease_s,
                                    channels=SENDERS.keys(), tz="Asia/Kolkata")

    # Its status callbacks are lost too (they would name the message and save it otherwise).
    dying = TwilioSender(dataclasses.replace(services.config, public_base_url="http://127.0.0.1:9"))

    async def send_then_die():
        for claim in claims:
            await dying.send(claim.message)
        await dying.close()

    rt.run(send_then_die())
    later = start + timedelta(seconds=rt.settings.lease_s + 1)
    assert pipeline.relay.run_once(now=later, force=True).leases_taken_back == 20
    pipeline.drain()
    assert pipeline.settle(lambda: statuses(services) == {"delivered": 20}, timeout=30, status_poll=True)
    copies = Counter(m["to"] for m in sim.messages())
    assert set(copies.values()) == {expected_copies}
