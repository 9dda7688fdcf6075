"""Redis transport for the outbox: message ids in RQ jobs, many ids a job.

The outbox hands committed ids to it (the "queue sends" hook); the worker (tikabot/stack/worker.py)
and the relay take them out again, and the send job (tikabot/queue/send_job.py) runs the jobs.

Jobs carry message ids only; a job id names its first (and last) message: `send-42`,
`send-42-241-3f9a1c`. The hash IN_TRANSPORT remembers which job carries each id until a sender
claims it, so the relay can tell a message Redis lost from one still waiting in a queue.

After a commit (the "queue sends" hook, store/phases.py) OTPs become jobs at once (a code never
waits); reply, default and bulk ids are only pushed onto a ready list (one RPUSH, in the commit's one
round trip); the worker turns ready ids into jobs within a
fraction of a second (`move_ready`). An id on a ready list is not in IN_TRANSPORT, so if Redis
loses it, or a worker dies between popping it and queueing its job, the relay finds it pending in
the database and queues it again; the relay moves the ready lists first, so it never takes an id
that is merely waiting there for a lost one.
"""
from __future__ import annotations

import os
from typing import Iterable

from redis import Redis
from rq import Queue

QUEUE_NAMES = ("otp", "reply", "default", "bulk")  # checked in this order
# OTPs in small jobs: never wait behind a batch. Replies to inbound messages have a lane of their own
# (served with the OTPs by the worker's lane process), so a bulk send never delays them.
BATCH = {"otp": 4, "reply": 50, "default": 50, "bulk": 200}
IN_TRANSPORT = "tikabot:outbox:in_transport"
JOB = "tikabot.queue.send_job.send_batch"
READY = {"reply": "tikabot:outbox:ready:reply", "default": "tikabot:outbox:ready:default",
         "bulk": "tikabot:outbox:ready:bulk"}  # popped in this order
_READY_PRIORITY = {key.encode(): priority for priority, key in READY.items()}


def job_id(ids: list[int]) -> str:
    suffix = os.urandom(3).hex()
    return f"send-{ids[0]}-{suffix}" if len(ids) == 1 else f"send-{ids[0]}-{ids[-1]}-{suffix}"


def chunks(ids: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def enqueue(redis: Redis, items: Iterable[tuple[int, str]]) -> int:
    """Queue (message id, priority) pairs; returns how many jobs. One round trip to Redis."""
    with redis.pipeline() as pipe:
        jobs = jobs_on(redis, pipe, items)
        pipe.execute()
    return jobs


def jobs_on(redis: Redis, pipe, items: Iterable[tuple[int, str]]) -> int:
    """Add the send jobs for (message id, priority) pairs to a pipeline; returns how many jobs."""
    by_priority: dict[str, list[int]] = {}
    for message_id, priority in items:
        by_priority.setdefault(priority if priority in BATCH else "default", []).append(message_id)
    jobs = 0
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
    return jobs


def split(items: Iterable[tuple[int, str]]) -> tuple[list[tuple[int, str]], dict[str, list[int]]]:
    """(OTPs, {ready list: ids}) for a hand-off: OTPs become jobs at once, the rest wait on a list."""
    otps: list[tuple[int, str]] = []
    ready: dict[str, list[int]] = {}
    for message_id, priority in items:
        if priority == "otp":
            otps.append((message_id, priority))
        else:
            ready.setdefault(READY.get(priority, READY["default"]), []).append(message_id)
    return otps, ready


def hand_off(redis: Redis, pipe, items: Iterable[tuple[int, str]]) -> None:
    """After commit (the outbox's "queue sends" hook, store/phases.py): OTPs into jobs now; reply,
    default and bulk ids onto their ready lists. Adds the commands to `pipe`; its caller sends it."""
    otps, ready = split(items)
    if otps:
        jobs_on(redis, pipe, otps)
    for key, ids in ready.items():
        pipe.rpush(key, *ids)


def take_ready(redis: Redis, count: int = 1000, block_s: float | None = None) -> list[tuple[int, str]]:
    """Pop up to count ids from the first non-empty ready list (default before bulk), atomically:
    each id goes to one caller. With block_s, wait that long for one to arrive."""
    keys = list(READY.values())
    if block_s is None:
        popped = redis.lmpop(len(keys), *keys, direction="LEFT", count=count)
    else:
        popped = redis.blmpop(block_s, len(keys), *keys, direction="LEFT", count=count)
    if not popped:
        return []
    key, values = popped
    priority = _READY_PRIORITY[key if isinstance(key, bytes) else key.encode()]
    return [(int(v), priority) for v in values]


def move_ready(redis: Redis, count: int = 1000, block_s: float | None = None) -> int:
    """Turn ready ids into send jobs; returns how many ids moved."""
    items = take_ready(redis, count, block_s)
    if items:
        enqueue(redis, items)
    return len(items)


def move_all_ready(redis: Redis, count: int = 1000, max_pops: int = 100) -> int:
    """Empty the ready lists into jobs (the relay, before it looks for lost messages). One pop
    takes from one list, so this pops until a pop finds every list empty (or max_pops)."""
    total = 0
    for _ in range(max_pops):
        moved = move_ready(redis, count)
        if not moved:
            break
        total += moved
    return total


def forget(redis: Redis, ids: Iterable[int]) -> None:
    """A sender claimed these: they are no longer in transport."""
    keys = [str(i) for i in ids]
    if keys:
        redis.hdel(IN_TRANSPORT, *keys)


def queue_depths(redis: Redis) -> dict[str, int]:
    """Jobs waiting in each RQ queue."""
    with redis.pipeline() as pipe:
        for name in QUEUE_NAMES:
            pipe.llen(Queue(name, connection=redis).key)
        return dict(zip(QUEUE_NAMES, pipe.execute()))


def ready_depths(redis: Redis) -> dict[str, int]:
    """Message ids waiting on each ready list to become jobs (a backlog the job counts do not show)."""
    with redis.pipeline() as pipe:
        for key in READY.values():
            pipe.llen(key)
        return dict(zip(READY, pipe.execute()))
