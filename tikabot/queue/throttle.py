"""Bulk pacing: SEND_RATE messages per second per sender, shared by every worker (Redis GCRA).

A sender reserves n slots at once and gets back the instant its first slot starts; slot i of
the reservation is at start + i / rate. Slots never overlap across workers, so in any one
second at most `rate` (+1 at the edge) bulk messages go out; OTPs do not take slots.
"""
from __future__ import annotations

from redis import Redis

# KEYS[1] = bucket; ARGV = rate (msg/s), n. Returns the reservation's start as "seconds.micros"
# on Redis's clock. The bucket holds the "theoretical arrival time" of the next free slot.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local rate = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local start = math.max(tat, now)
redis.call('SET', KEYS[1], string.format('%.6f', start + n / rate), 'EX', 3600)
return {string.format('%.6f', start), string.format('%.6f', now)}
"""


class Throttle:
    def __init__(self, redis: Redis, rate: float, sender: str):
        self.rate = rate
        self.key = f"tikabot:throttle:{sender}"
        self._script = redis.register_script(_RESERVE)

    def reserve(self, n: int) -> tuple[float, float]:
        """(start, now) on Redis's clock: slot i may be used at start + i / rate."""
        start, now = self._script(keys=[self.key], args=[self.rate, n])
        return float(start), float(now)
