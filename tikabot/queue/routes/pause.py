"""Stopping one route's sending after its provider account failed (suspended, wrong credentials,
no balance), for a while.

A pause belongs to the route whose account failed ("twilio", "exotel", ...), never to every
route: other routes keep sending, and the coordinators' alert about it (Telegram, or SMS by a
route that works) is not held by it. It lives in Redis with an expiry: when it ends the route
sends again, and if its account is still broken the first send pauses it again. Where routes are
configured (TIKABOT_ROUTES), route health reads a paused route as down, so its traffic fails over
(queue/routes/health.py); with Twilio alone, the send job holds back what that route would carry.

A worker that starts lifts every pause (`lift_all`): an operator who fixed an account's settings
restarts the workers, and sending must not wait out the pause. If the account is still broken, the
first send pauses the route again.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from redis import Redis

PREFIX = "tikabot:sending_paused:"


def key(route: str) -> str:
    return PREFIX + route


def paused_until(redis: Redis, route: str, now: datetime) -> datetime | None:
    ttl = redis.pttl(key(route))
    return now + timedelta(milliseconds=ttl) if ttl and ttl > 0 else None


def pause(redis: Redis, route: str, code: str, seconds: float) -> None:
    redis.set(key(route), code, px=int(seconds * 1000), nx=True)


def lift_all(redis: Redis) -> list[tuple[str, str]]:
    """Remove every route's pause; the (route, error code) of each one lifted."""
    lifted = []
    for name in redis.scan_iter(match=PREFIX + "*"):
        name = name.decode() if isinstance(name, bytes) else name
        code = redis.getdel(name)
        if code is not None:
            lifted.append((name[len(PREFIX):], code.decode() if isinstance(code, bytes) else str(code)))
    return sorted(lifted)
