"""Route health, in Redis so every worker sees the same: up, down, or recovering (half-open).

A route goes down at once on an account error, an offline gateway or a provider that refuses the
connection (an error kind in DOWN_AT_ONCE or with action ACCOUNT), or when the errors among its
latest sends (the last `recent` of them within this window and the one before) pass a share of
those sends. Counting the latest sends, not every send of the window, matters for a busy route
that stops answering: the hundreds it carried just before would otherwise outweigh its failures
until the messages failing on it had run out of attempts. Down lasts a cool-off; then the route is half-open: one message at a time may try it (a
trial, held by a short Redis lease) and success brings it back, failure takes it down again.
An outage is one Redis key from the first failure to the recovery, so coordinators are alerted
once per outage however often it flaps. `force_down` / `force_up` are for rehearsals and
operators: a forced route takes no trial until it is forced up or its time runs out.

Health is advice: when Redis cannot answer, every route counts as up.
"""
from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from redis import Redis
from redis.exceptions import RedisError

from tikabot.queue.routes import pause
from tikabot.core.sending import ACCOUNT, UNKNOWN, SendError

log = logging.getLogger(__name__)
PREFIX = "tikabot:route:"
# Error kinds that say the route itself is unusable, not just this message.
DOWN_AT_ONCE = frozenset({"gateway_offline", "device_offline", "account_suspended", "authentication_failed",
                          "account_forbidden", "no_balance",
                          "no_gateway_phone",  # every gateway phone out of rotation: the android route is down
                          "provider_unreachable",  # the connection was refused: nothing sent, nothing listening
                          "kannel_unreachable"})  # the same for a district's smsbox
# Errors that say nothing was sent, to be retried, and also something of the route: counted against
# it like an unknown outcome, so a route answering them to everyone is taken out at the error rate.
COUNTED_AGAINST = frozenset({"kannel_busy"})  # smsbox's 503: bearerbox gone or no SMSC link, for every message
UP, DOWN, HALF_OPEN, FORCED = "up", "down", "half-open", "forced down"


def _num(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


@dataclass(frozen=True)
class HealthSettings:
    window_s: float = 60.0       # errors are counted over this window (and the one before)
    error_rate: float = 0.5      # this share of sends failing takes the route down...
    min_errors: int = 5          # ...once at least this many failed
    recent: int = 50             # the sends counted: the latest this many within the window and the one before
    cooldown_s: float = 60.0     # down this long before a trial message may try it again
    trial_lease_s: float = 30.0  # one trial at a time, for at most this long

    @classmethod
    def from_env(cls) -> "HealthSettings":
        return cls(window_s=_num("TIKABOT_ROUTE_WINDOW", cls.window_s),
                   error_rate=_num("TIKABOT_ROUTE_ERROR_RATE", cls.error_rate),
                   min_errors=int(_num("TIKABOT_ROUTE_MIN_ERRORS", cls.min_errors)),
                   recent=max(1, int(_num("TIKABOT_ROUTE_RECENT", cls.recent))),
                   cooldown_s=_num("TIKABOT_ROUTE_COOLDOWN", cls.cooldown_s))


def takes_route_down(exc: SendError) -> bool:
    return exc.kind.action == ACCOUNT or exc.kind.name in DOWN_AT_ONCE


def counts_against(exc: SendError) -> bool:
    """An error that says something about the route (not about this one message or number)."""
    return takes_route_down(exc) or exc.kind.action == UNKNOWN or exc.kind.name in COUNTED_AGAINST


@dataclass(frozen=True)
class Outage:
    route: str
    reason: str
    since: float  # epoch seconds
    forced: bool = False

    @property
    def id(self) -> str:
        return f"{self.route}-{int(self.since)}"


class RouteHealth:
    def __init__(self, redis: Redis, settings: HealthSettings | None = None,
                 clock: Callable[[], float] = time.time):
        """`clock` gives epoch seconds: the error windows and outages are counted on it (a test
        passes its own, so a window never turns over in the middle of what it counts)."""
        self.redis = redis
        self.settings = settings or HealthSettings()
        self.clock = clock

    def _bucket(self) -> int:
        return int(self.clock() // self.settings.window_s)

    def _key(self, route: str, part: str) -> str:
        return f"{PREFIX}{route}:{part}"

    # --- reading -------------------------------------------------------------------------------
    def state(self, route: str) -> str:
        try:
            down, forced, outage, paused = self.redis.mget(self._key(route, "down"), self._key(route, "forced"),
                                                           self._key(route, "outage"), pause.key(route))
        except RedisError:
            return UP
        if forced is not None:
            return FORCED
        if down is not None or paused is not None:  # paused: its account failed (queue/routes/pause.py)
            return DOWN
        return HALF_OPEN if outage is not None else UP

    def usable(self, route: str, trial: bool = True) -> bool:
        """Up; or recovering and this caller takes the one trial (only when `trial`)."""
        state = self.state(route)
        if state == UP:
            return True
        if state != HALF_OPEN or not trial:
            return False
        try:
            return bool(self.redis.set(self._key(route, "trial"), "1", nx=True,
                                       px=int(self.settings.trial_lease_s * 1000)))
        except RedisError:
            return True

    def outage(self, route: str) -> Outage | None:
        try:
            raw = self.redis.get(self._key(route, "outage"))
        except RedisError:
            return None
        return None if raw is None else Outage(**json.loads(raw))

    def window(self, route: str) -> tuple[int, int]:
        """(sends, errors) in the current and the previous window."""
        bucket = self._bucket()
        try:
            rows = [self.redis.hgetall(self._key(route, f"w:{b}")) for b in (bucket - 1, bucket)]
        except RedisError:
            return 0, 0
        return (sum(int(r.get(b"n", 0)) for r in rows), sum(int(r.get(b"err", 0)) for r in rows))

    def down_for(self, route: str) -> float | None:
        """Seconds until a trial may try it (None when not down)."""
        try:
            ttl = self.redis.pttl(self._key(route, "forced"))
            if ttl is None or ttl == -2:
                ttl = self.redis.pttl(self._key(route, "down"))
        except RedisError:
            return None
        return None if ttl is None or ttl == -2 else (ttl / 1000 if ttl >= 0 else float("inf"))

    # --- which route an attempt went by, in case its worker dies before recording it ----------
    def note_attempt(self, message_id: int, route: str, keep_s: float = 3600.0) -> None:
        try:
            self.redis.set(f"{PREFIX}attempt:{message_id}", route, ex=int(keep_s))
        except RedisError:
            pass  # then only the row's via names it

    def attempted_on(self, message_id: int) -> str | None:
        try:
            raw = self.redis.get(f"{PREFIX}attempt:{message_id}")
        except RedisError:
            return None
        return raw.decode() if raw else None

    def latest(self, route: str) -> tuple[int, int]:
        """(sends, errors) among the route's latest `recent` sends, in this window and the one before."""
        try:
            raw = self.redis.lrange(self._key(route, "latest"), 0, -1)
        except RedisError:
            return 0, 0
        return self._latest(raw)

    def _latest(self, raw) -> tuple[int, int]:
        oldest = self._bucket() - 1
        outcomes = [entry.split(b":") for entry in raw]
        counted = [error for bucket, error in outcomes if int(bucket) >= oldest]
        return len(counted), sum(1 for error in counted if error == b"1")

    # --- writing -------------------------------------------------------------------------------
    def _count(self, route: str, error: bool) -> tuple[int, int]:
        """Count a send; (sends, errors) among the latest ones (`latest`)."""
        bucket = self._bucket()
        key, latest = self._key(route, f"w:{bucket}"), self._key(route, "latest")
        keep_s = int(self.settings.window_s * 3) + 1
        with self.redis.pipeline() as pipe:
            pipe.hincrby(key, "n", 1)
            pipe.hincrby(key, "err", 1 if error else 0)
            pipe.expire(key, keep_s)
            pipe.lpush(latest, f"{bucket}:{1 if error else 0}")
            pipe.ltrim(latest, 0, self.settings.recent - 1)
            pipe.expire(latest, keep_s)
            pipe.lrange(latest, 0, -1)
            raw = pipe.execute()[-1]
        return self._latest(raw)

    def record_ok(self, route: str) -> Outage | None:
        """A send the route accepted. Returns the outage it ends, if it was recovering."""
        try:
            self._count(route, error=False)
            if self.state(route) != HALF_OPEN:
                return None
            ended = self.outage(route)
            self.redis.delete(self._key(route, "outage"), self._key(route, "trial"))
        except RedisError:
            return None
        if ended is not None:
            log.warning("route %s is back after %.0f s (%s)", route, self.clock() - ended.since, ended.reason)
        return ended

    def record_error(self, route: str, exc: SendError) -> Outage | None:
        """A failed send. Returns the outage when this error began one (alert once, then)."""
        if not counts_against(exc):
            try:
                self._count(route, error=False)
            except RedisError:
                pass
            return None
        try:
            sends, errors = self._count(route, error=True)
            recovering = self.state(route) == HALF_OPEN
            over = errors >= self.settings.min_errors and errors >= self.settings.error_rate * sends
            if takes_route_down(exc) or over or recovering:
                return self.take_down(route, exc.kind.name)
        except RedisError:
            log.warning("route health not recorded for %s: Redis unavailable", route)
        return None

    def take_down(self, route: str, reason: str, seconds: float | None = None,
                  forced: bool = False) -> Outage | None:
        """Down for `seconds` (the cool-off by default). Returns the outage if this began it."""
        seconds = self.settings.cooldown_s if seconds is None else seconds
        outage = Outage(route, reason, self.clock(), forced)
        with self.redis.pipeline() as pipe:
            pipe.set(self._key(route, "outage"), json.dumps(outage.__dict__), nx=True)
            pipe.set(self._key(route, "forced" if forced else "down"), reason, px=max(1, int(seconds * 1000)))
            pipe.delete(self._key(route, "trial"))
            began, _, _ = pipe.execute()
        if began:
            log.warning("route %s is down: %s", route, reason)
        return outage if began else None

    def force_down(self, route: str, seconds: float | None = None, reason: str = "taken down") -> Outage | None:
        """Take a route out of service (a rehearsal's outage, an operator's choice); None: until
        force_up. Returns the outage if this began it."""
        outage = self.take_down(route, reason, seconds if seconds is not None else 10 * 365 * 86400, forced=True)
        return outage

    def force_up(self, route: str) -> None:
        """Back in service now, counted from a clean window."""
        keys = [self._key(route, p) for p in ("forced", "down", "outage", "trial", "latest")]
        bucket = self._bucket()
        keys += [self._key(route, f"w:{b}") for b in (bucket - 1, bucket)]
        self.redis.delete(*keys)
