"""The planner as the worker runs it: an RQ cron entry that enqueues run_planner, run by a real
worker on the embedded Redis, with Services built from the environment."""
from __future__ import annotations

from datetime import date, timedelta

from redis import Redis
from rq import Queue

from tests.support.worlds.reminders import ist
from tikabot.queue.worker import Worker
from rq.cron import CronScheduler

from tikabot import clock
from tikabot.reminders import job

DAY = date(2021, 3, 10)


def test_cron_entry_runs_the_planner_in_a_worker(world, database_url, redis_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setattr(clock, "now", lambda: ist(DAY - timedelta(days=1), 9))
    who = world.person()
    world.book(who, DAY)
    redis = Redis.from_url(redis_url)
    try:
        cron = CronScheduler(connection=redis, logging_level="WARNING")
        job.register(cron)
        [entry] = cron.get_jobs()
        assert (entry.queue_name, entry.interval) == ("default", job.INTERVAL_SECONDS)
        cron.enqueue_jobs()
        queue = Queue(job.QUEUE, connection=redis)
        Worker([queue], connection=redis).work(burst=True, logging_level="WARNING")
        [finished] = queue.finished_job_registry.get_job_ids()
        assert queue.fetch_job(finished).return_value() == {"eve": 1, "morning": 1}  # the booking: the import's
    finally:
        redis.close()
    assert sorted(m.template for m in world.messages()) == ["appt.reminder_eve", "appt.reminder_morning"]

