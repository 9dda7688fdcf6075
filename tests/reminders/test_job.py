"""The planner as the worker runs it: enqueued by the schedule, run by a real worker on the embedded
Redis, with the process's services built once from the environment."""
from __future__ import annotations

from datetime import date, timedelta

from redis import Redis
from rq import Queue

from tests.support.worlds.reminders import ist
from tikabot import services as process
from tikabot.core import clock
from tikabot.stack.worker import Worker
from tikabot.tasks import reminders as job
from tikabot.tasks.schedule import enqueue_due

DAY = date(2021, 3, 10)


def test_the_scheduled_planner_runs_in_a_worker_on_the_process_services(world, database_url, redis_url,
                                                                         monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setattr(clock, "now", lambda: ist(DAY - timedelta(days=1), 9))
    who = world.person()
    world.book(who, DAY)
    redis = Redis.from_url(redis_url)
    try:
        assert "planner" in enqueue_due(redis)
        queue = Queue("default", connection=redis)
        Worker([queue], connection=redis).work(burst=True, logging_level="WARNING")
        finished = queue.finished_job_registry.get_job_ids()
        results = [queue.fetch_job(i) for i in finished]
        [planner] = [j for j in results if j.func_name == "tikabot.tasks.reminders.run_planner"]
        assert planner.return_value() == {"eve": 1, "morning": 1}  # the booking: the import's
        built = process.of_process()
        assert job.run_planner() == {}  # a second run: nothing new to plan, on the same services
        assert process.of_process() is built
    finally:
        redis.close()
    assert sorted(m.template for m in world.messages()) == ["appt.reminder_eve", "appt.reminder_morning"]
