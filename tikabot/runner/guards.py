"""Redis-held short-lived state: per-sender lock, conversation state, rate limit, loop guard.

Keys (all under tikabot:): lock:<phone>, conv:<phone>, rate:<phone>, auto:<phone>. Counters are
fixed windows: INCR, and an expiry set by the first increment.

The inbox runner talks to Redis twice per round: `begin_round` counts each message and reads each
sender's conversation state in one round trip; after the commit, the post-commit hook "save
conversation states" (SAVE_STATES, store/phases.py) saves the new ones in the commit's one round
trip, beside the outbox's hand-off. `enter` and `leave` do the same for one sender under its lock,
and `sender_lock` is that lock for callers that want a block. The lock module never queues messages.
"""
from __future__ import annotations

import json
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass

from redis import Redis
from redis.commands.core import Script

from tikabot.store import phases

LOCK_SECONDS = 15  # longer than any step could take; released at once normally
LOCK_WAIT = 10
LOCK_POLL = 0.005  # seconds between tries while another message from the sender is handled
STATE_TTL = 60 * 60  # the flow itself expires a guided conversation after 10 minutes
# Messages per window (seconds). Staff report a dose every few seconds on a busy day, and a report
# over the limit is recorded but not acted on, so theirs is only a guard against a runaway loop:
# no person types 300 messages a minute.
RATE_LIMITS = {"staff": (300, 60), "public": (10, 60)}
RATE_WINDOW = 60  # the same window for both kinds: the count is taken before we know the sender
AUTO_REPLIES = (5, 600)  # at most 5 automatic replies per sender per 10 minutes
assert all(window == RATE_WINDOW for _, window in RATE_LIMITS.values())

# KEYS: lock, rate, conv. ARGV: token, lock ms, rate window s. -> {0} busy | {1, count, state}
_ENTER = """
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {0} end
local count = redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[3], 'NX')
return {1, count, redis.call('GET', KEYS[3])}
"""
# KEYS: lock, conv, rate. ARGV: token, action (keep|set|del), state, ttl, uncount (0|1)
_LEAVE = """
if ARGV[2] == 'set' then redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[4])
elseif ARGV[2] == 'del' then redis.call('DEL', KEYS[2]) end
if ARGV[5] == '1' and redis.call('EXISTS', KEYS[3]) == 1 then redis.call('DECR', KEYS[3]) end
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
ENTER, LEAVE = (Script(None, source.encode()) for source in (_ENTER, _LEAVE))  # EVALSHA


class Busy(RuntimeError):
    """Another message from the same sender is still being handled."""


def _keys(phone: str) -> tuple[str, str, str]:
    return f"tikabot:lock:{phone}", f"tikabot:rate:{phone}", f"tikabot:conv:{phone}"


@dataclass
class Entry:
    """What `enter` found: the lock token, this message's number in the rate window, the state."""
    phone: str
    token: str
    count: int
    state: dict | None


def enter(redis: Redis, phone: str) -> Entry:
    """Lock the sender, count this message, read the conversation state: one round trip (more only
    while another message from the same sender holds the lock). Raises Busy after LOCK_WAIT."""
    lock, rate, conv = _keys(phone)
    token = os.urandom(12).hex()
    deadline = time.monotonic() + LOCK_WAIT
    while True:  # a Redis restart is ridden out by the client's own retries (services.connect_redis)
        found = ENTER(keys=[lock, rate, conv], args=[token, LOCK_SECONDS * 1000, RATE_WINDOW], client=redis)
        if found[0]:
            raw = found[2]
            return Entry(phone, token, int(found[1]), json.loads(raw) if raw else None)
        if time.monotonic() >= deadline:
            raise Busy(phone)
        time.sleep(LOCK_POLL)


KEEP = object()  # leave(): do not touch the conversation state


def leave(redis: Redis, entry: Entry, state=KEEP, uncount: bool = False) -> None:
    """Save the new state (None deletes it; KEEP leaves it), optionally take back this message's count
    (a replay is not a new message) and release the lock: one round trip."""
    lock, rate, conv = _keys(entry.phone)
    if state is KEEP:
        action, raw = "keep", ""
    elif state is None:
        action, raw = "del", ""
    else:
        action, raw = "set", json.dumps(state)
    LEAVE(keys=[lock, conv, rate], args=[entry.token, action, raw, STATE_TTL, "1" if uncount else "0"], client=redis)


def over_limit(count: int, kind: str) -> int:
    """How far over the sender's limit the count is (0: within the limit)."""
    return max(0, count - RATE_LIMITS[kind][0])


@contextmanager
def sender_lock(redis: Redis, phone: str):
    lock = redis.lock(f"tikabot:lock:{phone}", timeout=LOCK_SECONDS, blocking_timeout=LOCK_WAIT,
                      sleep=LOCK_POLL)
    if not lock.acquire():
        raise Busy(phone)
    try:
        yield
    finally:
        try:
            lock.release()
        except Exception:  # expired meanwhile: nothing left to release
            pass


def _count(redis: Redis, key: str, window: int) -> int:
    pipe = redis.pipeline()
    pipe.incr(key)
    pipe.expire(key, window, nx=True)
    return pipe.execute()[0]


def auto_reply_number(redis: Redis, phone: str) -> int:
    """Count one more automatic reply to phone in the loop guard's window; returns its number."""
    return _count(redis, f"tikabot:auto:{phone}", AUTO_REPLIES[1])


def may_auto_reply(redis: Redis, phone: str) -> bool:
    return auto_reply_number(redis, phone) <= AUTO_REPLIES[0]


def begin_round(redis: Redis, phones: list[str]) -> list[tuple[int, dict | None]]:
    """For a round of messages from distinct senders: count each message in its sender's rate
    window and read each sender's conversation state, in one round trip. The inbox worker's lease
    keeps a sender's messages apart, so no lock is taken here."""
    with redis.pipeline(transaction=False) as pipe:
        for phone in phones:
            _, rate, conv = _keys(phone)
            pipe.incr(rate)
            pipe.expire(rate, RATE_WINDOW, nx=True)
            pipe.get(conv)
        found = pipe.execute()
    return [(int(found[3 * n]), json.loads(found[3 * n + 2]) if found[3 * n + 2] else None)
            for n in range(len(phones))]


def _save_states(redis: Redis, pipe, states: list[tuple[str, dict | None]]) -> None:
    """The post-commit hook "save conversation states": each sender's new conversation state
    (None deletes it; the last one attached for a sender wins), added to the commit's pipeline."""
    for phone, state in dict(states).items():
        conv = _keys(phone)[2]
        if state is None:
            pipe.delete(conv)
        else:
            pipe.set(conv, json.dumps(state), ex=STATE_TTL)


SAVE_STATES = phases.Hook("save conversation states", phases.POST, _save_states)
