"""Redis transport for the outbox: message ids in RQ jobs, many ids a job.

Jobs carry message ids only; a job id names its first (and last) message: `send-42`,
`send-42-241-3f9a1c`. The hash IN_TRANSPORT remembers which job carries each id until a sender
claims it, so the relay can tell a message Redis lost from one still waiting in a queue.
"""
from __future__ import annotations

import os
from typing import Iterable

from redis import Redis
from rq import Queue

QUEUE_NAMES = ("otp", "default", "bulk")  # checked in this order
BATCH = {"otp": 4, "default": 50, "bulk": 200}  # OTPs in small jobs: never wait behind a batch
IN_TRANSPORT = "tikabot:outbox:in_transport"
JOB = "tikabot.queue.send_job.send_batch"


def job_id(ids: list[int]) -> str:
    suffix = os.urandom(3).hex()
    return f"send-{ids[0]}-{suffix}" if len(ids) == 1 else f"send-{ids[0]}-{ids[-1]}-{suffix}"


def chunks(ids: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def enqueue(redis: Redis, items: Iterable[tuple[int, str]]) -> int:
    """Queue (message id, priority) pairs; returns how many jobs. One round trip to Redis."""
    by_priority: dict[str, list[int]] = {}
    for message_id, priority in items:
        by_priority.setdefault(priority if priority in BATCH else "default", []).append(message_id)
    jobs = 0
    with redis.pipeline() as pipe:
        for priority, ids in by_priority.items():
            queue = Queue(priority, connection=redis)
            datas = []
            for chunk in chunks(sorted(ids), BATCH[priority]):
                jid = job_id(chunk)
                datas.append(Queue.prepare_data(JOB, args=(chunk,), job_id=jid, result_ttl=0,
                                                failure_ttl=86400, timeout=300))
                pipe.hset(IN_TRANSPORT, mapping={str(i): jid for i in chunk})
            queue.enqueue_many(datas, pipeline=pipe)
            jobs += len(datas)
        pipe.execute()
    return jobs


def make_dispatch(redis: Redis):
    """The callable the outbox runs after commit (session.info["dispatch"])."""
    def dispatch(items: list[tuple[int, str]]) -> None:
        enqueue(redis, items)
    return dispatch


def forget(redis: Redis, ids: Iterable[int]) -> None:
    """A sender claimed these: they are no longer in transport."""
    keys = [str(i) for i in ids]
    if keys:
        redis.hdel(IN_TRANSPORT, *keys)


def queue_depths(redis: Redis) -> dict[str, int]:
    with redis.pipeline() as pipe:
        for name in QUEUE_NAMES:
            pipe.llen(Queue(name, connection=redis).key)
        return dict(zip(QUEUE_NAMES, pipe.execute()))
