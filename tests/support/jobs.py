"""Jobs performed in the test's own process by one worker kept for the whole test.

A burst worker per pass registers, subscribes and tears down every time; this keeps one worker
(the product's class) and performs whatever is queued, in the product worker's queue order."""
from __future__ import annotations

from tikabot.stack.worker import Worker, queues


class JobDrain:
    def __init__(self, redis, names=None):
        self.worker = Worker(queues(redis) if names is None else queues(redis, names), connection=redis)
        self.worker.bootstrap(logging_level="ERROR")

    def run(self) -> int:
        """Perform every job queued now (and any a job queues meanwhile); the number performed."""
        done = 0
        while (found := self.worker.dequeue_job_and_maintain_ttl(None)) is not None:
            self.worker.execute_job(*found)
            done += 1
        return done

    def close(self) -> None:
        self.worker.teardown()
