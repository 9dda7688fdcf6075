"""The long-lived things a process needs: config, database and Redis. Built once per process."""
from __future__ import annotations

from dataclasses import dataclass

from redis import Redis
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from tikabot.config import Config
from tikabot.store.db import make_engine, make_sessionmaker, transaction


@dataclass
class Services:
    config: Config
    engine: Engine
    sessions: sessionmaker[Session]
    redis: Redis | None

    @classmethod
    def build(cls, config: Config) -> "Services":
        engine = make_engine(config.database_url)
        redis = Redis.from_url(config.redis_url, health_check_interval=30) if config.redis_url else None
        sessions = make_sessionmaker(engine)
        if redis is not None:  # after commit, new outbox messages are queued on Redis (outbox.py)
            from tikabot.queue.dispatch import make_dispatch
            from tikabot.queue.outbox import DISPATCH_KEY

            sessions.configure(info={DISPATCH_KEY: make_dispatch(redis)})
        return cls(config=config, engine=engine, sessions=sessions, redis=redis)

    def transaction(self):
        return transaction(self.sessions)

    def close(self) -> None:
        if self.redis is not None:
            self.redis.close()
        self.engine.dispose()
