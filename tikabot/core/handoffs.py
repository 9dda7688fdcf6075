"""Which route (and which gateway phone) each attempt of a message was handed to.

A status report names the message it is about by its provider id, or, when we never learnt that
id (the create call's answer was lost, or the report outran it), by our message id and attempt,
which ride in the callback URL or the gateway's message id. Those two numbers are easy to guess,
so a report may touch a row only when that attempt was handed to the route whose credential
signed the report (queue/callbacks.py): one route's token or one phone's key then speaks for
what that route or phone was given, never for a message on another route.

Noted just before the provider is called, so no report can come back before its note; kept in
Redis (one small set an attempt, for a day) because it is written on the send path, where a
database write per message would cost more than the send. When Redis cannot answer, nothing is
noted and such a report is refused; the send's own record then names the provider id, which
later reports match.
"""
from __future__ import annotations

import logging

from redis.exceptions import RedisError

log = logging.getLogger(__name__)
KEEP_S = 86400
PREFIX = "tikabot:handed:"


def _key(message_id: int, attempt: int) -> str:
    return f"{PREFIX}{message_id}:{attempt}"


def note(redis, message_id: int, attempt: int, via: str) -> None:
    """Attempt `attempt` of the message goes to `via` ("exotel", "twilio", "android:ranaghat")."""
    try:
        with redis.pipeline(transaction=False) as pipe:
            pipe.sadd(_key(message_id, attempt), via)
            pipe.expire(_key(message_id, attempt), KEEP_S)
            pipe.execute()
    except RedisError:
        log.warning("hand-off of message %s to %s not noted: Redis unavailable", message_id, via)


def routes_of(redis, message_id: int, attempt: int) -> set[str]:
    """The routes attempt `attempt` of the message was handed to (empty when unknown)."""
    try:
        return {v.decode() if isinstance(v, bytes) else v for v in redis.smembers(_key(message_id, attempt))}
    except RedisError:
        return set()


def handed(redis, message_id: int, attempt: int, via: str) -> bool:
    try:
        return bool(redis.sismember(_key(message_id, attempt), via))
    except RedisError:
        return False
