"""The planner as an RQ job: `tikabot.tasks.reminders.run_planner`, run every few minutes.

It builds its own Services from the environment (a job must not depend on a Flask app) and
closes them again. Register it with RQ's cron scheduler through `register(cron)`.
"""
from __future__ import annotations

from tikabot.core import clock

INTERVAL_SECONDS = 300
QUEUE = "default"


def run_planner() -> dict[str, int]:
    from tikabot.config import Config
    from tikabot.reminders.planner import plan
    from tikabot.services import Services

    services = Services.build(Config.from_env())
    try:
        with services.transaction() as session:
            return plan(session, clock.now(), services.config)
    finally:
        services.close()


def register(cron) -> None:
    """Add the planner to an rq.cron.CronScheduler (the worker's periodic jobs)."""
    cron.register(run_planner, queue_name=QUEUE, interval=INTERVAL_SECONDS)
