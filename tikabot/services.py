"""The long-lived things a process needs: config, database and Redis. Built once per process."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from redis import Redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.retry import Retry
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from tikabot.config import Config
from tikabot.flows.vaccines import load_vaccines
from tikabot.outbox.sealing import SEALER_KEY, sealer
from tikabot.codes.appointment import SECRET_KEY
from tikabot.store.db import make_engine, make_sessionmaker, transaction
from tikabot.store.phases import TRANSPORT_KEY


@dataclass
class Services:
    config: Config
    engine: Engine
    sessions: sessionmaker[Session]
    redis: Redis | None
    inbox: Any = None  # tikabot.inbox.accept.Inbox, made by the first accept in this process

    @classmethod
    def build(cls, config: Config) -> "Services":
        if config.vaccines_file:  # TIKABOT_VACCINES: every channel reads the same names
            load_vaccines(config.vaccines_file)
        engine = make_engine(config.database_url)
        redis = connect_redis(config.redis_url) if config.redis_url else None
        sessions = make_sessionmaker(engine)
        # codes in the outbox are sealed with it; security codes are hashed with OTP_SECRET
        info = {SEALER_KEY: sealer(config.otp_secret), SECRET_KEY: config.otp_secret}
        if redis is not None:  # the post-commit hooks' transport: new outbox messages queued on it (phases.py)
            info[TRANSPORT_KEY] = redis
        sessions.configure(info=info)
        return cls(config=config, engine=engine, sessions=sessions, redis=redis)

    def transaction(self):
        return transaction(self.sessions)

    def close(self) -> None:
        if self.inbox is not None:
            self.inbox.close()
        if self.redis is not None:
            self.redis.close()
        self.engine.dispose()


_process: Services | None = None


def of_process() -> Services:
    """This process's services: built once, from the environment, on first use (a worker's jobs, the
    bot, a command), or installed by the process's entry point. Jobs never build their own: a fresh
    engine and Redis client per run cost connections and hid which configuration a job ran with."""
    global _process
    if _process is None:
        _process = Services.build(Config.from_env())
    return _process


def install(services: Services) -> Services:
    """Make `services` this process's (tests, the rehearsal's in-process parts)."""
    global _process
    _process = services
    return services


def release() -> None:
    """Close this process's services (the process is stopping, or a test is done with them)."""
    global _process
    if _process is not None:
        _process.close()
        _process = None


SOCKET_TIMEOUT = 2.0  # seconds a Redis command (or a connection) may take before it fails


def connect_redis(url: str) -> Redis:
    """A client that rides out a Redis restart of a few seconds (Twilio waits 15 s for a webhook)
    instead of failing the request that happened to arrive during it, and that never waits long
    on a hung Redis (one that accepts and never answers): each command and each connection times
    out after SOCKET_TIMEOUT, and a timeout is not retried (a restart refuses connections at
    once; what hangs for two seconds will hang again), so it costs a request about two seconds.
    A connection idle for 30 s is checked with a PING before it is used again."""
    retry = Retry(ExponentialWithJitterBackoff(base=0.05, cap=1.0), retries=12,
                  supported_errors=(RedisConnectionError,))
    return Redis.from_url(url, socket_timeout=SOCKET_TIMEOUT, socket_connect_timeout=SOCKET_TIMEOUT,
                          health_check_interval=30, retry=retry, retry_on_timeout=False)
