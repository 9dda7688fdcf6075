"""The product's worker stops at once: its command listener polls briefly. RQ's own polls every
60 s, and stopping joins it: when its subscription was not yet confirmed, the stop waited 60 s."""
from __future__ import annotations

import redis as redis_lib

from tikabot.stack.worker import PUBSUB_POLL_S, Worker, queues


def test_the_command_listener_polls_briefly_so_stopping_never_waits_long(redis_url):
    redis = redis_lib.Redis.from_url(redis_url)
    worker = Worker(queues(redis), connection=redis)
    worker.bootstrap(logging_level="ERROR")
    try:
        assert worker.pubsub_thread.sleep_time == PUBSUB_POLL_S <= 0.2
    finally:
        worker.teardown()
        redis.close()
    assert not worker.pubsub_thread.is_alive()

