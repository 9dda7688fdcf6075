"""A gateway phone's pace (6 SMS a minute): a refusal takes no slot, replies go before reminders,
and a vaccinator's two quick messages both get their replies. End to end: the simulated phone
receives the SMS and posts its signed webhook to our app, the inbox and runner answer, the send
worker hands the replies to the phone."""
from __future__ import annotations

import dataclasses
import json
import time
import urllib.request
from datetime import datetime

import pytest
from sqlalchemy import select
from zoneinfo import ZoneInfo

from tests.support import wait_for
from tests.support.jobs import JobDrain
from tests.support.worlds.small_district import hashed
from tests.support.pipeline import outbound_rows as rows
from tikabot.handlers import android_devices
from tikabot.inbox.worker import burst
from tikabot.outbox import transport
from tikabot.queue import runtime
from tikabot.outbox.messages import add_message
from tikabot.queue.relay import Relay
from tikabot.queue.settings import SendSettings
from tikabot.core.throttle import Throttle
from tikabot.services import Services
from tikabot.store.models import Appointment, Beneficiary, Dose, OutboundMessage, Site, Staff

VACCINATOR = "+919830070001"
FAST = SendSettings(lease_s=5.0, retry_base_s=0.05, slow_retry_base_s=0.05, retry_cap_s=0.2,
                    relay_interval_s=0.1, stale_s=1.0, recheck_after_s=0.1)


class Worker:
    """What `tikabot worker` does, in this process: the inbox, the ready lists, send jobs, the relay."""

    def __init__(self, config):
        self.services = Services.build(config)
        self.runtime = runtime.install(self.services, FAST)
        self.relay = Relay(self.services, FAST)
        self.jobs = JobDrain(self.services.redis)

    def step(self):
        burst(self.services)
        redis = self.services.redis
        transport.move_all_ready(redis)
        self.jobs.run()
        self.relay.run_once(force=True)

    def close(self):
        self.jobs.close()
        runtime.uninstall()
        self.services.close()


@pytest.fixture
def slow_phone(live):
    """Every SMS by the ranaghat phone, paced at its SIM's real 6 a minute."""
    phones = tuple(dataclasses.replace(p, per_minute=6.0) for p in live.config.smsgate_phones)
    config = dataclasses.replace(live.config, smsgate_phones=phones, routes="default=android,twilio")
    worker = Worker(config)
    yield worker
    worker.close()


def texted(simulator, text: str, sender: str = VACCINATOR, phone: str = "ranaghat") -> None:
    """The phone receives an SMS and posts the signed sms:received webhook to our app."""
    request = urllib.request.Request(f"{simulator.url}/_sim/smsgate/{phone}/receive", method="POST",
                                     data=json.dumps({"from": sender, "text": text}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert json.loads(answer.read())["status"] == 200


def handed_to(sim, number: str) -> list[str]:
    return [s["text"] for s in sorted(sim.smsgate.view(), key=lambda s: s["created"]) if s["to"] == number]


def add_site_day(services) -> None:
    today = datetime.now(ZoneInfo(services.config.tz)).date()
    with services.transaction() as s:
        site = Site(code="RNG", name="Ranaghat PHC", district="Nadia", state="WB")
        s.add(site)
        s.flush()
        s.add(Staff(phone=VACCINATOR, name="Mita", role="vaccinator", site_id=site.id, language="en"))
        person = Beneficiary(ref="0700000002", name="Sangita", phone="+918499936196", language="en", site_id=site.id)
        s.add(person)
        s.flush()
        s.add(Appointment(beneficiary_id=person.id, site_id=site.id, dose_number=1, date=today,
                          slot="09:00-11:00", security_code_hash=hashed(person.id, "4321")))


def add_rows(services, n, priority, template, prefix, via=None) -> list[int]:
    ids = []
    with services.transaction() as s:
        for i in range(n):
            row = add_message(s, key=f"{prefix}-{i}", recipient=f"+9198301{i:05d}", template=template,
                              language="en", body=f"{prefix} {i}", priority=priority, channel="sms")
            row.via = via
            s.flush()
            ids.append(row.id)
    return ids




def test_a_refused_reservation_leaves_the_bucket_as_it_was(redis_url):
    import redis as redis_lib

    redis = redis_lib.Redis.from_url(redis_url)
    throttle = Throttle(redis, 0.1, "android:test")  # 6 a minute: a slot every 10 s
    first = throttle.try_reserve(1, max_wait=5.0)
    assert first.granted and first.wait == 0
    held = redis.get(throttle.key)
    for _ in range(5):  # a busy retry loop, as a worker's would be
        refused = throttle.try_reserve(1, max_wait=5.0)
        assert not refused.granted and 9.0 < refused.wait <= 10.0
    assert redis.get(throttle.key) == held  # no slot taken by any refusal
    later = throttle.try_reserve(1, max_wait=None)
    assert later.granted and abs(later.start - (first.start + 10.0)) < 1e-3  # the very next slot
    after_two = redis.get(throttle.key)
    assert not throttle.try_reserve(1, tolerance=0.0, max_wait=0.0).granted  # bulk: only when idle
    assert redis.get(throttle.key) == after_two
    redis.close()


def test_start_then_dose_a_second_later_both_get_their_replies_through_the_phone(slow_phone, simulator):
    services, sim = slow_phone.services, simulator.sim
    add_site_day(services)
    texted(simulator, "START COVISHIELD LOT1")
    assert wait_for(lambda: len(handed_to(sim, VACCINATOR)) == 1, step=slow_phone.step)
    texted(simulator, "DOSE 0700000002 1")
    # the old pace refused this reply again and again (each refusal pushing the phone's next slot
    # 10 s on); now it goes within the worker's next passes
    assert wait_for(lambda: len(handed_to(sim, VACCINATOR)) == 2, timeout=30.0, step=slow_phone.step)
    start_reply, dose_reply = handed_to(sim, VACCINATOR)
    assert start_reply.startswith("Session open") and dose_reply.startswith("Recorded: 0700000002")
    with services.sessions() as s:
        assert len(list(s.scalars(select(Dose)))) == 1
        replies = list(s.scalars(select(OutboundMessage).where(OutboundMessage.recipient == VACCINATOR)))
    assert [(r.attempts, r.via) for r in replies] == [(1, "android:ranaghat")] * 2  # no attempt refused, by the phone texted


def test_a_reply_is_not_delayed_behind_reminders_queued_on_the_same_phone(slow_phone, simulator):
    services, sim = slow_phone.services, simulator.sim
    reminders = add_rows(services, 5, "bulk", "appt.reminder_eve", "Remind", via="android:ranaghat")
    slow_phone.step()
    assert len(sim.smsgate.view()) == 1  # the phone was idle: one reminder took the slot
    waiting = [r for r in rows(services, reminders) if r.status == "pending"]
    assert len(waiting) == 4
    assert all(r.attempts == 0 and r.last_error_code == "gateway_busy" for r in waiting)  # no attempt spent
    [reply] = add_rows(services, 1, "reply", "staff.help", "Reply", via="android:ranaghat")
    slow_phone.step()
    assert "Reply 0" in [s["text"] for s in sim.smsgate.view()]  # at once: not after the 4 reminders
    [row] = rows(services, [reply])
    assert row.attempts == 1 and row.status != "pending"
    assert len(sim.smsgate.view()) == 2  # the reminders still wait their turn


def test_reminders_held_back_by_the_pace_all_go_once_without_counting_against_the_phone(live, simulator):
    sim = simulator.sim
    phones = tuple(dataclasses.replace(p, per_minute=120.0) for p in live.config.smsgate_phones)  # 0.5 s a slot
    worker = Worker(dataclasses.replace(live.config, smsgate_phones=phones, routes="default=android,twilio"))
    try:
        services = worker.services
        reminders = add_rows(services, 6, "bulk", "appt.reminder_eve", "Remind", via="android:ranaghat")
        done = wait_for(lambda: all(r.status != "pending" for r in rows(services, reminders)), timeout=30.0,
                        step=worker.step)
        assert done, [(r.status, r.attempts, r.not_before, r.last_error_code) for r in rows(services, reminders)]
        texts = [s["text"] for s in sim.smsgate.view()]
        assert sorted(texts) == sorted(f"Remind {i}" for i in range(6))  # each once: none lost, none doubled
        assert all(r.attempts == 1 and r.status in ("accepted", "sent", "delivered")
                   for r in rows(services, reminders))
        [health] = android_devices.phone_health(services.redis, ["ranaghat"], time.time(), 900)
        assert health.fails == 0
    finally:
        worker.close()
