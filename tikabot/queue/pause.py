"""Stopping all sending after a provider account error (20003, 30002), for a while.

The pause lives in Redis with an expiry: when it ends, sending resumes by itself, and if the
account is still broken the first send pauses it again (the alert is keyed by the hour, so
coordinators hear about it once an hour, not once a message).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from redis import Redis
from sqlalchemy.orm import Session

from tikabot.alerts import alert_coordinators

PAUSE_KEY = "tikabot:sending_paused"


def paused_until(redis: Redis, now: datetime) -> datetime | None:
    ttl = redis.pttl(PAUSE_KEY)
    return now + timedelta(milliseconds=ttl) if ttl and ttl > 0 else None


def pause(redis: Redis, code: str, seconds: float) -> None:
    redis.set(PAUSE_KEY, code, px=int(seconds * 1000), nx=True)


def alert_account_failure(session: Session, code: str, now: datetime) -> None:
    alert_coordinators(session, key=f"account-{code}-{now:%Y%m%d%H}", template="alert.account_failure",
                       params={"code": code})
