"""Pacing shared by every worker: a GCRA bucket in Redis, one per sender (a Twilio number, a
gateway phone's SIM).

The bucket holds the "theoretical arrival time" (tat) of the sender's next free slot; each slot
is 1 / rate seconds. A caller reserves n slots at once and gets back the instant its first slot
starts; slot i of the reservation is at start + i / rate. Slots never overlap across workers.

Two knobs make one bucket serve urgent and patient traffic (a gateway phone's lanes: handlers/android_pace.py):
- `tolerance` (GCRA's tau): how far ahead of the tat a reservation may start, i.e. a burst of
  tolerance * rate extra slots when the sender has been quiet; the long-run rate is unchanged,
  because every reservation still moves the tat on by n / rate.
- `max_wait`: the longest a caller will wait for its start. A reservation that would start later
  is refused and changes nothing (the check and the reservation are one Lua script, so no other
  worker sees a half-made decision); the caller learns how long it would have waited.
"""
from __future__ import annotations

from dataclasses import dataclass

from redis import Redis

# KEYS[1] = bucket; ARGV = rate (slots/s), n, tolerance (s), max wait (s, negative: no limit).
# Returns {start, now, granted} on Redis's clock, times as "seconds.micros".
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local rate = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local tolerance = tonumber(ARGV[3])
local max_wait = tonumber(ARGV[4])
local tat = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now)
local start = math.max(tat - tolerance, now)
if max_wait >= 0 and start - now > max_wait then
  return {string.format('%.6f', start), string.format('%.6f', now), 0}
end
redis.call('SET', KEYS[1], string.format('%.6f', tat + n / rate), 'EX', 3600)
return {string.format('%.6f', start), string.format('%.6f', now), 1}
"""


@dataclass(frozen=True)
class Reservation:
    start: float  # Redis clock: when the first slot begins (when it would have, if refused)
    now: float    # Redis clock when the script ran
    granted: bool

    @property
    def wait(self) -> float:
        return max(0.0, self.start - self.now)


class Throttle:
    def __init__(self, redis: Redis, rate: float, sender: str):
        self.rate = rate
        self.key = f"tikabot:throttle:{sender}"
        self._script = redis.register_script(_RESERVE)

    def reserve(self, n: int) -> tuple[float, float]:
        """(start, now) on Redis's clock: slot i may be used at start + i / rate. Always granted."""
        found = self.try_reserve(n)
        return found.start, found.now

    def try_reserve(self, n: int = 1, tolerance: float = 0.0, max_wait: float | None = None) -> Reservation:
        """Reserve n slots if the first starts within max_wait (None: whenever it comes); a
        refusal leaves the bucket as it was."""
        start, now, granted = self._script(
            keys=[self.key], args=[self.rate, n, tolerance, -1 if max_wait is None else max_wait])
        return Reservation(float(start), float(now), bool(int(granted)))
