"""The reminder planner as a periodic job (tasks/schedule.py): due appointment messages into the outbox."""
from __future__ import annotations

from tikabot import services as process
from tikabot.core import clock
from tikabot.reminders.planner import plan


def run_planner() -> dict[str, int]:
    services = process.of_process()
    with services.transaction() as session:
        return plan(session, clock.now(), services.config)
