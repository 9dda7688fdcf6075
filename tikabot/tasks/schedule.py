"""Periodic jobs: the reminder planner, the coordinator alert checks, asking the provider about
messages whose status callbacks never came, and applying delivery reports kept for a send whose
record the send job committed without applying them.

The worker's relay calls `enqueue_due` after every pass (tikabot/stack/worker.py). A Redis key per job (SET NX with the interval as its
expiry) lets exactly one worker enqueue each run, however many workers there are; the jobs
themselves are idempotent, so a run repeated after a crash sends nothing twice.
"""
from __future__ import annotations

import os

from redis import Redis
from rq import Queue

from tikabot.registry.settings import RegistrySettings

PLANNER_EVERY_S = 60
ALERTS_EVERY_S = 60


STATUS_POLL_EVERY_S = 30
EARLY_REPORTS_EVERY_S = 60

JOBS = (
    ("planner", "tikabot.tasks.reminders.run_planner", PLANNER_EVERY_S),
    ("alerts", "tikabot.tasks.alerts.run_alert_checks", ALERTS_EVERY_S),
    ("status-poll", "tikabot.tasks.status_poll.run_status_poll", STATUS_POLL_EVERY_S),
    ("early-reports", "tikabot.tasks.early_reports.run_early_reports", EARLY_REPORTS_EVERY_S),
)


ROUTE_PROBE_EVERY_S = 15


def due_jobs() -> tuple:
    """JOBS; probing recovering routes when TIKABOT_ROUTES is set (tikabot/queue/routes/send.py);
    the registry sync (tikabot/tasks/registry.py) when UPSTREAM_FHIR_BASE is set."""
    jobs = JOBS
    if os.environ.get("TIKABOT_ROUTES"):
        jobs = jobs + (("route-probe", "tikabot.tasks.route_probes.run_probes", ROUTE_PROBE_EVERY_S),)
    registry = RegistrySettings.from_env()
    if not registry.base_url:
        return jobs
    # on the bulk queue: a long sync behind a burst of reminders is fine, a confirmation behind a sync is not
    return jobs + (("registry-sync", "tikabot.tasks.registry.run_sync", max(1, int(registry.every_s)), "bulk"),)


def enqueue_due(redis: Redis, queue_name: str = "default") -> list[str]:
    queued = []
    for name, func, every, *on_queue in due_jobs():
        if redis.set(f"tikabot:periodic:{name}", "1", nx=True, ex=every):
            queue = Queue(on_queue[0] if on_queue else queue_name, connection=redis)
            queue.enqueue(func, job_timeout=max(every * 5, 300), result_ttl=every, failure_ttl=3600)
            queued.append(name)
    return queued
