"""The worker syncs on its own when UPSTREAM_FHIR_BASE is set, and not otherwise."""
from __future__ import annotations

from rq import Queue

from tests.support.worlds.registry import doses, immunizations
from tikabot.stack.worker import Worker

from tikabot.tasks.schedule import enqueue_due


def test_without_an_upstream_the_worker_does_not_sync(world, monkeypatch):
    monkeypatch.delenv("UPSTREAM_FHIR_BASE", raising=False)
    assert "registry-sync" not in enqueue_due(world.redis)


def test_the_worker_pushes_doses_on_its_own_once_per_interval(world, upstream, settings, config, monkeypatch):
    for name, value in (("DATABASE_URL", config.database_url), ("REDIS_URL", config.redis_url),
                        ("UPSTREAM_FHIR_BASE", settings.base_url), ("TIKABOT_SYNC_EVERY", "30")):
        monkeypatch.setenv(name, value)
    assert "registry-sync" in enqueue_due(world.redis)
    assert "registry-sync" not in enqueue_due(world.redis)  # another worker, the same interval
    queue = Queue("bulk", connection=world.redis)
    Worker([queue], connection=world.redis).work(burst=True, logging_level="WARNING")
    assert queue.failed_job_registry.count == 0
    assert len(immunizations(upstream)) == 2
    assert all(d.sync_state == "synced" for d in doses(world).values())
