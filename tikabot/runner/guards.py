"""Redis-held short-lived state: per-sender lock, conversation state, rate limit, loop guard.

Keys (all under tikabot:): lock:<phone>, conv:<phone>, rate:<phone>, auto:<phone>. Counters are
fixed windows: INCR, and an expiry set by the first increment.
"""
from __future__ import annotations

import json
from contextlib import contextmanager

from redis import Redis

LOCK_SECONDS = 15  # longer than any step could take; released at once normally
LOCK_WAIT = 10
STATE_TTL = 60 * 60  # the flow itself expires a guided conversation after 10 minutes
RATE_LIMITS = {"staff": (60, 60), "public": (10, 60)}  # messages per window (seconds)
AUTO_REPLIES = (5, 600)  # at most 5 automatic replies per sender per 10 minutes


class Busy(RuntimeError):
    """Another message from the same sender is still being handled."""


@contextmanager
def sender_lock(redis: Redis, phone: str):
    lock = redis.lock(f"tikabot:lock:{phone}", timeout=LOCK_SECONDS, blocking_timeout=LOCK_WAIT)
    if not lock.acquire():
        raise Busy(phone)
    try:
        yield
    finally:
        try:
            lock.release()
        except Exception:  # expired meanwhile: nothing left to release
            pass


def load_state(redis: Redis, phone: str) -> dict | None:
    raw = redis.get(f"tikabot:conv:{phone}")
    return json.loads(raw) if raw else None


def save_state(redis: Redis, phone: str, state: dict | None) -> None:
    key = f"tikabot:conv:{phone}"
    if state is None:
        redis.delete(key)
    else:
        redis.set(key, json.dumps(state), ex=STATE_TTL)


def _count(redis: Redis, key: str, window: int) -> int:
    pipe = redis.pipeline()
    pipe.incr(key)
    pipe.expire(key, window, nx=True)
    return pipe.execute()[0]


def messages_over_limit(redis: Redis, phone: str, kind: str) -> int:
    """Count this message; how far over the sender's limit it is (0: within the limit)."""
    limit, window = RATE_LIMITS[kind]
    return max(0, _count(redis, f"tikabot:rate:{phone}", window) - limit)


def may_auto_reply(redis: Redis, phone: str) -> bool:
    limit, window = AUTO_REPLIES
    return _count(redis, f"tikabot:auto:{phone}", window) <= limit
