"""Which gateway phones are in rotation: health kept in Redis, so every web and worker process agrees.

A phone is in rotation unless
- it has been heard from (a signed webhook: `system:ping`, a delivery report, a received SMS) and
  then fell silent for longer than `stale_s` (the app pings every few minutes when asked to), or
- its last FAILS_OUT sends in a row failed for a reason that says the phone did not answer (network
  error, timeout, 5xx, refused credentials, radio off). That count expires after FAIL_MEMORY_S,
  so a phone out for failures is tried again later; any ping or webhook from it clears it at once.

A phone never heard from is in rotation: on the first day the first send is the test. The routing
layer asks `healthy_phones`; `tikabot channels` shows `phone_health`.

Keys per phone: tikabot:smsgate:<id>:seen (epoch s of the last signed webhook), :fails (sends in a
row that found it not answering; expires), :error (the last such error; expires with it).
"""
from __future__ import annotations

from dataclasses import dataclass

FAILS_OUT = 3
FAIL_MEMORY_S = 600  # a phone out for failures is tried again after this long


def _keys(phone_id: str) -> tuple[str, str, str]:
    base = f"tikabot:smsgate:{phone_id}"
    return f"{base}:seen", f"{base}:fails", f"{base}:error"


@dataclass(frozen=True)
class PhoneHealth:
    id: str
    healthy: bool
    seen_at: float | None  # epoch seconds of the last signed webhook from it
    fails: int  # sends in a row that found the phone not answering
    reason: str  # "" when healthy: "silent 1200 s", "3 failed sends (timeout)"


def heard_from(redis, phone_id: str, now: float) -> None:
    """A verified webhook came from the phone: it is alive; earlier failures no longer count."""
    seen, fails, error = _keys(phone_id)
    pipe = redis.pipeline()
    pipe.set(seen, f"{now:.3f}", ex=7 * 86400)
    pipe.delete(fails, error)
    pipe.execute()


def send_worked(redis, phone_id: str) -> None:
    _, fails, error = _keys(phone_id)
    redis.delete(fails, error)


def send_failed(redis, phone_id: str, error_name: str, seen_at: float | None = None) -> int:
    """The phone did not answer a send (or answered that its radio cannot send, `seen_at` = when it
    said so). Returns the failures in a row."""
    seen, fails, error = _keys(phone_id)
    pipe = redis.pipeline()
    if seen_at is not None:
        pipe.set(seen, f"{seen_at:.3f}", ex=7 * 86400)
    pipe.incr(fails)
    pipe.expire(fails, FAIL_MEMORY_S)
    pipe.set(error, error_name[:40], ex=FAIL_MEMORY_S)
    count = pipe.execute()[-3]  # the INCR's answer
    return int(count)


def phone_health(redis, phone_ids, now: float, stale_s: float) -> list[PhoneHealth]:
    phone_ids = list(phone_ids)
    values = redis.mget([k for phone_id in phone_ids for k in _keys(phone_id)]) if phone_ids else []
    found = []
    for i, phone_id in enumerate(phone_ids):
        raw_seen, raw_fails, raw_error = values[3 * i:3 * i + 3]
        seen = float(raw_seen) if raw_seen else None
        fails = int(raw_fails or 0)
        reason = ""
        if fails >= FAILS_OUT:
            last = raw_error.decode() if isinstance(raw_error, bytes) else (raw_error or "no answer")
            reason = f"{fails} failed sends ({last})"
        elif seen is not None and now - seen > stale_s:
            reason = f"silent {now - seen:.0f} s"
        found.append(PhoneHealth(phone_id, not reason, seen, fails, reason))
    return found


def healthy_phones(redis, phone_ids, now: float, stale_s: float) -> list[str]:
    """The phones in rotation, in the order given (the configured order: first is preferred)."""
    return [h.id for h in phone_health(redis, phone_ids, now, stale_s) if h.healthy]
