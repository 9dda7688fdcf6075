"""What the bot's handlers share: the services, the clock, and a way to use the database
(synchronous SQLAlchemy) from the bot's event loop without blocking it."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Callable, TypeVar

from sqlalchemy.orm import Session

from tikabot.core import clock
from tikabot.services import Services

T = TypeVar("T")


@dataclass
class BotDeps:
    services: Services
    now: Callable[[], datetime] = field(default=clock.now)

    @property
    def tz(self) -> str:
        return self.services.config.tz

    def today(self) -> date:
        return clock.local_date(self.now(), self.tz)

    def _in_transaction(self, work: Callable[[Session], T]) -> T:
        with self.services.transaction() as session:
            return work(session)

    async def db(self, work: Callable[[Session], T]) -> T:
        """Run work(session) in one transaction on a worker thread; commit if it returns."""
        return await asyncio.to_thread(self._in_transaction, work)
