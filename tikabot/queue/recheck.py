"""Messages to ask the provider about soon: copies the provider check found still on their way.

Such a copy was sent by an earlier attempt, and its status callbacks name that attempt. One that
came while the next attempt was checking named an attempt the message was no longer at, so it was
not applied; the message would then stay `sent` until the status poll's quiet time (10 minutes),
though it may have been delivered long before (and an OTP left undelivered is read out by a voice
call). Callbacks after the check match the provider's id again, so one look soon after is enough.
Kept in Redis: if Redis loses an entry, the status poll's quiet time still applies to it.
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterable

from redis import Redis

KEY = "tikabot:outbox:recheck"


def ask_soon(redis: Redis, ids: Iterable[int], at: datetime) -> None:
    """Ask the provider about these messages once `at` has passed."""
    mapping = {str(i): at.timestamp() for i in ids}
    if mapping:
        redis.zadd(KEY, mapping)


def take_due(redis: Redis, now: datetime) -> list[int]:
    """The messages due to be asked about, each handed to one caller."""
    with redis.pipeline() as pipe:
        pipe.zrangebyscore(KEY, "-inf", now.timestamp())
        pipe.zremrangebyscore(KEY, "-inf", now.timestamp())
        due, _ = pipe.execute()
    return [int(i) for i in due]
