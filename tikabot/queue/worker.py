"""`tikabot worker`: an RQ worker on the otp, default and bulk queues, in that priority."""
from __future__ import annotations

from redis import Redis
from rq import Queue, SimpleWorker

QUEUE_NAMES = ("otp", "default", "bulk")


def queues(redis: Redis) -> list[Queue]:
    return [Queue(name, connection=redis) for name in QUEUE_NAMES]


def run_worker(redis: Redis, burst: bool = False) -> None:
    # SimpleWorker runs jobs in its own process: no fork per job (a fork costs ~25 ms of CPU).
    worker = SimpleWorker(queues(redis), connection=redis)
    worker.work(burst=burst, with_scheduler=True, logging_level="WARNING")
