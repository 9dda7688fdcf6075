"""Guessing from one staff phone: wrong codes and unknown references, counted per phone.

The OTP service locks a beneficiary after 5 wrong codes, but a phone that tries codes across
many beneficiaries, or REFs one after another to find which exist, never hits that lock. So
every wrong code check (OTP or security code) and every "REF not found" answer counts against
the staff phone that caused it: LIMIT of them within WINDOW pause the phone's checks for LOCK.
While paused, the phone's VERIFY and OTP are not acted on and an unknown REF gets the pause
reply instead of "not found"; doses of known beneficiaries are still recorded (a report is
never withheld). Coordinators are alerted once, when the pause begins.

Keys: tikabot:probe:<phone> (the failures, a sliding window) and tikabot:probe-lock:<phone> (the
pause's end, epoch seconds by the caller's clock, so tests can move time).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime

from redis import Redis
from redis.commands.core import Script
from sqlalchemy import select

from tikabot.alerts.coordinators import alert_coordinators
from tikabot.core.phones import mask
from tikabot.store.models import Staff

LIMIT = 10
WINDOW = 10 * 60
LOCK = 30 * 60
# the replies that mean a guess failed (the staff flow's and the OTP service's keys)
FAILED_REPLIES = frozenset({"staff.unknown_ref", "staff.otp_wrong", "staff.otp_locked"})
PROBING_KEYWORDS = frozenset({"VERIFY", "OTP"})

# KEYS: failures (sorted set, scored by time), lock. ARGV: n, window, limit, now, lock s, token
# -> {state, value}. state 0: counted (value: failures in the window) | 1: already paused (value:
# its end) | 2: this count began the pause (value: its end)
_COUNT = Script(None, b"""
local now = tonumber(ARGV[4])
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused > now then return {1, paused} end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
for i = 1, tonumber(ARGV[1]) do redis.call('ZADD', KEYS[1], now, ARGV[6] .. ':' .. i) end
redis.call('EXPIRE', KEYS[1], ARGV[2])
local count = redis.call('ZCARD', KEYS[1])
if count < tonumber(ARGV[3]) then return {0, count} end
local ends = now + tonumber(ARGV[5])
redis.call('SET', KEYS[2], ends, 'EX', ARGV[5])
redis.call('DEL', KEYS[1])
return {2, ends}
""")



@dataclass(frozen=True)
class Counted:
    paused_minutes: int  # 0: not paused
    new_pause: bool      # this count began the pause: alert coordinators


def _keys(phone: str) -> list[str]:
    return [f"tikabot:probe:{phone}", f"tikabot:probe-lock:{phone}"]


def _minutes(ends: int, now: datetime) -> int:
    return max(1, -(-(ends - int(now.timestamp())) // 60))


def paused_minutes(redis: Redis, phone: str, now: datetime) -> int:
    """Minutes left of the phone's pause, 0 when it is not paused."""
    raw = redis.get(_keys(phone)[1])
    ends = int(raw) if raw else 0
    return _minutes(ends, now) if ends > now.timestamp() else 0


def count_failures(redis: Redis, phone: str, failures: int, now: datetime) -> Counted:
    state, value = _COUNT(keys=_keys(phone), args=[failures, WINDOW, LIMIT, int(now.timestamp()), LOCK, os.urandom(6).hex()],
                          client=redis)
    if state == 0:
        return Counted(0, False)
    return Counted(_minutes(int(value), now), state == 2)


def failures_in(replies) -> int:
    return sum(1 for reply in replies if reply.key in FAILED_REPLIES)


def alert_pause(session, *, phone: str, site: str, minutes: int, now: datetime) -> None:
    """Tell coordinators, once per pause, that a staff phone's checks were paused."""
    person = session.scalar(select(Staff).where(Staff.phone == phone))
    alert_coordinators(session, key=f"probing-{phone}-{int(now.timestamp()) // 60}", template="alert.staff_probing",
                       params={"phone": mask(phone), "name": person.name if person else "?", "site": site or "-",
                               "count": LIMIT, "minutes": minutes}, priority="otp",
                       site_id=person.site_id if person else None)
