"""The planner and the alert checks run once per interval, however many workers ask."""
from __future__ import annotations

from datetime import date, datetime, timezone

from rq import Queue

from tests.support.worlds.small_district import hashed
from tikabot.stack.worker import Worker

from tikabot.tasks.schedule import enqueue_due
from tikabot.store.models import Appointment, Beneficiary, OutboundMessage, Site


def test_each_periodic_job_is_queued_once_per_interval(services):
    assert enqueue_due(services.redis) == ["planner", "alerts", "status-poll", "early-reports"]
    assert enqueue_due(services.redis) == []  # a second worker's relay in the same minute
    assert Queue("default", connection=services.redis).count == 4


def test_the_planner_job_turns_an_appointment_into_its_reminders(services, monkeypatch, config):
    monkeypatch.setenv("DATABASE_URL", config.database_url)
    monkeypatch.setenv("REDIS_URL", config.redis_url)
    monkeypatch.setenv("TIKABOT_QUIET_HOURS", "off")
    today = datetime.now(timezone.utc).date()
    with services.transaction() as s:
        site = Site(code="S1", name="Barasat")
        s.add(site)
        s.flush()
        person = Beneficiary(ref="1234567890", name="Rina Das", phone="+919830012345", language="en",
                             site_id=site.id)
        s.add(person)
        s.flush()
        s.add(Appointment(beneficiary_id=person.id, site_id=site.id, dose_number=1,
                          date=date.fromordinal(today.toordinal() + 1), slot="15:00-17:00",
                          security_code_hash=hashed(person.id, "4321")))
    enqueue_due(services.redis)
    Worker([Queue("default", connection=services.redis)], connection=services.redis).work(
        burst=True, logging_level="WARNING")
    with services.sessions() as s:
        templates = [m.template for m in s.query(OutboundMessage).all()]
    assert {"appt.reminder_eve", "appt.reminder_morning"} & set(templates)  # the booking: the import's
    failed = Queue("default", connection=services.redis).failed_job_registry
    assert failed.count == 0
