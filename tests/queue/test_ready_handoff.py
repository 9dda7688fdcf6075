"""The after-commit hand-off: OTPs become jobs at once; confirmations and reminders wait on a
ready list until the worker's ready loop (or the relay) turns them into jobs. Each is sent once,
and one that Redis loses while it waits there is found again by the relay."""
from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select

from tests.support import wait_for
from tikabot.core.clock import now
from tikabot.outbox import transport
from tikabot.outbox.messages import add_message
from tikabot.queue.relay import GRACE_S
from tikabot.stack.worker import start_ready_loop
from tikabot.store.models import OutboundMessage


def add(services, count, priority, prefix="c", first=0):
    with services.transaction() as session:
        return [add_message(session, key=f"{prefix}{i}", recipient=f"+9198302{first + i:05d}", template="dose.recorded",
                            body=f"Dose 1 of Covishield recorded for person {i}. Thank you.", priority=priority,
                            expires_at=now() + timedelta(minutes=10) if priority == "otp" else None).id
                for i in range(count)]


def statuses(services):
    with services.sessions() as session:
        return dict(session.execute(select(OutboundMessage.status, func.count()).group_by(OutboundMessage.status)).all())


def waiting(redis, priority):
    return [int(v) for v in redis.lrange(transport.READY[priority], 0, -1)]


def test_otps_become_jobs_at_once_other_messages_wait_on_their_ready_list(pipeline):
    services = pipeline.services
    [otp] = add(services, 1, "otp", prefix="o")
    confirmations = add(services, 3, "default")
    reminders = add(services, 2, "bulk", prefix="b", first=100)
    assert transport.queue_depths(services.redis) == {"otp": 1, "reply": 0, "default": 0, "bulk": 0}
    assert transport.ready_depths(services.redis) == {"reply": 0, "default": 3, "bulk": 2}
    assert waiting(services.redis, "default") == confirmations
    assert waiting(services.redis, "bulk") == reminders
    assert otp not in confirmations + reminders


def test_a_confirmation_handed_off_through_the_ready_list_is_sent_exactly_once(pipeline, sim):
    services, redis = pipeline.services, pipeline.services.redis
    [message_id] = add(services, 1, "default")
    stop = threading.Event()
    loop = start_ready_loop(redis, stop)
    try:
        assert wait_for(lambda: transport.queue_depths(redis)["default"] == 1)
    finally:
        stop.set()
        loop.join()
    assert waiting(redis, "default") == []
    # Later than the grace period the relay finds it in transport: not taken for lost.
    assert pipeline.relay.run_once(now=now() + timedelta(seconds=GRACE_S + 3), force=True).requeued == 0
    # Even a second job for it (a wrong guess that Redis lost it) sends nothing twice: a sender
    # claims only pending messages.
    transport.enqueue(redis, [(message_id, "default")])
    assert pipeline.settle(lambda: statuses(services) == {"delivered": 1}, relay=False)
    [received] = sim.messages()
    assert received["to"] == "+919830200000"
    with services.sessions() as session:
        assert session.get(OutboundMessage, message_id).attempts == 1


def test_ids_waiting_on_a_ready_list_are_moved_by_the_relay_not_taken_for_lost(pipeline, sim):
    services, redis = pipeline.services, pipeline.services.redis
    ids = add(services, 30, "default") + add(services, 10, "bulk", prefix="b", first=100)
    later = now() + timedelta(seconds=GRACE_S + 3)  # no worker ran its ready loop meanwhile
    result = pipeline.relay.run_once(now=later, force=True)
    assert (result.moved_ready, result.requeued) == (40, 0)
    assert waiting(redis, "default") == waiting(redis, "bulk") == []
    assert pipeline.settle(lambda: statuses(services) == {"delivered": len(ids)})
    assert set(Counter(m["to"] for m in sim.messages()).values()) == {1}


def test_ids_lost_from_a_ready_list_in_a_redis_flush_are_recovered_by_the_relay(pipeline, sim):
    services, redis = pipeline.services, pipeline.services.redis
    ids = add(services, 20, "default") + add(services, 5, "bulk", prefix="b", first=100)
    assert len(waiting(redis, "default")) == 20
    redis.flushall()
    later = now() + timedelta(seconds=GRACE_S + 3)
    result = pipeline.relay.run_once(now=later, force=True)
    assert (result.moved_ready, sorted(result.requeued_ids)) == (0, sorted(ids))
    assert pipeline.settle(lambda: statuses(services) == {"delivered": len(ids)})
    per_recipient = Counter(m["to"] for m in sim.messages())
    assert len(per_recipient) == 25 and set(per_recipient.values()) == {1}


def test_a_retry_is_queued_as_soon_as_it_is_due_without_waiting_out_the_grace(pipeline):
    """A retry planned by a status callback is never handed to Redis at commit, so the relay has
    nothing to wait for: it queues it at its time, while a message just committed without a time
    to go is left to its after-commit hand-off for the grace period."""
    from sqlalchemy import update

    services, redis = pipeline.services, pipeline.services.redis
    retry, fresh = add(services, 2, "default")
    redis.flushall()  # neither is in transport now
    at = now()
    with services.transaction() as session:
        session.execute(update(OutboundMessage).where(OutboundMessage.id == retry).values(
            attempts=1, not_before=at - timedelta(seconds=0.1), updated_at=at))
        session.execute(update(OutboundMessage).where(OutboundMessage.id == fresh).values(updated_at=at))
    result = pipeline.relay.run_once(now=at, force=True)
    assert result.requeued_ids == [retry]
