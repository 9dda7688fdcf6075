"""When to try a message again: exponential back-off with jitter, bounded by attempts and,
for an OTP, by its expiry (a code is never sent after it expires)."""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from tikabot.core.sending import ErrorKind
from tikabot.queue.settings import SendSettings


def backoff_s(attempt: int, kind: ErrorKind, settings: SendSettings, rng=random) -> float:
    """Delay before attempt `attempt + 1`: base * 2^(attempt-1), capped, times a jitter in [0.5, 1]."""
    base = settings.slow_retry_base_s if kind.slow else settings.retry_base_s
    return min(settings.retry_cap_s, base * 2 ** max(0, attempt - 1)) * rng.uniform(0.5, 1.0)


def next_attempt_at(*, attempts: int, kind: ErrorKind, expires_at: datetime | None, now: datetime,
                    settings: SendSettings) -> datetime | None:
    """When to try again, or None when this message has had its last attempt."""
    limit = settings.max_attempts
    if kind.max_retries is not None:
        limit = min(limit, 1 + kind.max_retries)
    if attempts >= limit:
        return None
    at = now + timedelta(seconds=backoff_s(attempts, kind, settings))
    if expires_at is not None and at >= expires_at:
        return None
    return at
