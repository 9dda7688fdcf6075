"""Failover between SMS routes, end to end: outbox -> worker -> two provider accounts -> signed
status callbacks. The second route is a test-only second Twilio account on a second simulator
(the Android gateway and Exotel senders are built in their own issue); what is shown holds for
any route whose sender speaks the send/find_existing contract.

Every test counts the copies each provider received: each message exactly once (0 duplicates)
and every message delivered (0 lost).
"""
from __future__ import annotations

import dataclasses
from collections import Counter

import pytest
from sqlalchemy import select

from tests.support.credentials import TEST_AUTH_TOKEN
from tests.support.pipeline import outbound_rows as rows
from tikabot.handlers.twilio_sms import TwilioSender
from tikabot.queue import senders
from tikabot.outbox.messages import add_message
from tikabot.queue.routes.health import DOWN, HALF_OPEN, UP, HealthSettings
from tikabot.simulator.config import FaultConfig
from tikabot.simulator.server import SimulatorThread
from tikabot.store.models import AuditLog, OutboundMessage, Staff


BACKUP_SID = "AC" + "2" * 32
QUICK = HealthSettings(window_s=30.0, error_rate=0.5, min_errors=3, cooldown_s=0.5, trial_lease_s=2.0)


@pytest.fixture(scope="module")
def backup_simulator():
    with SimulatorThread(FaultConfig(account_sid=BACKUP_SID, auth_token=TEST_AUTH_TOKEN, seed=5,
                                     sent_delay_s=0.01, delivered_delay_s=0.02, callback_retries=2,
                                     callback_retry_delay_s=0.05)) as thread:
        yield thread


@pytest.fixture
def backup(backup_simulator, monkeypatch):
    """A second route, "backup": another Twilio account on another simulator."""
    backup_simulator.sim.reset(config=True)

    def make(config):
        return TwilioSender(dataclasses.replace(config, twilio_api_base=backup_simulator.url,
                                                twilio_account_sid=BACKUP_SID))

    monkeypatch.setitem(senders.SENDERS, "backup", make)
    return backup_simulator.sim


@pytest.fixture
def coordinator(pipeline):
    with pipeline.services.transaction() as session:
        session.add(Staff(phone="+919830000001", name="Coordinator", role="coordinator", language="en"))


def add_many(services, n, template="appt.booked", priority="default", via=None, prefix="Test"):
    ids = []
    with services.transaction() as session:
        for i in range(n):
            message = add_message(session, key=f"{prefix}-{i}", recipient=f"+9198300{i:05d}", template=template,
                                  language="en", body=f"{prefix} message {i}", priority=priority)
            message.via = via
            session.flush()
            ids.append(message.id)
    return ids




def copies(*sims):
    return Counter(m["body"] for sim in sims for m in sim.messages())


def all_delivered(services, ids):
    """Delivered; or, for what the backup route carried, with its provider: the test-only backup
    account reports through Twilio's status webhook, whose credential settles only what Twilio carried."""
    return lambda: all(r.status == "delivered" or (r.via == "backup" and r.status in ("accepted", "sent"))
                       for r in rows(services, ids))


def test_a_route_failing_with_server_errors_hands_its_messages_to_the_next_with_none_twice(
        pipeline, sim, backup, coordinator):
    services = pipeline.services
    router = pipeline.runtime.configure_routes("default=twilio,backup", dlt_routes="", health=QUICK)
    sim.configure(rate_500=1.0, fault_after_create=0.5)  # every create answers 500; half were made anyway
    ids = add_many(services, 30)
    assert pipeline.settle(all_delivered(services, ids), timeout=60)

    sent = copies(sim, backup)
    assert all(sent[f"Test message {i}"] == 1 for i in range(30)), sent  # 0 duplicates, 0 lost
    stored = rows(services, ids)
    by_route = Counter(r.via for r in stored)
    assert by_route["backup"] > 0 and set(by_route) <= {"twilio", "backup"}
    # the ones the first route made despite its 500 were found there, not sent again
    at_primary = {m["body"] for m in sim.messages()}
    assert {r.body for r in stored if r.via == "twilio"} == at_primary & {r.body for r in stored}
    assert router.health.state("twilio") in (DOWN, HALF_OPEN)
    alerts = [r for r in rows(services) if r.template == "alert.route_down"]
    assert len(alerts) == 1 and "twilio is down (provider_error)" in alerts[0].body


def test_a_route_back_in_service_takes_its_traffic_back(pipeline, sim, backup, coordinator):
    services = pipeline.services
    router = pipeline.runtime.configure_routes("default=twilio,backup", dlt_routes="", health=QUICK)
    sim.configure(rate_500=1.0, fault_after_create=0.0)
    first = add_many(services, 10, prefix="Down")
    assert pipeline.settle(all_delivered(services, first), timeout=60)
    assert router.health.state("twilio") != UP
    sim.configure(rate_500=0.0)  # the provider is fixed; after the cool-off one trial message brings it back
    assert pipeline.settle(lambda: router.health.state("twilio") == HALF_OPEN, timeout=10)
    trial = add_many(services, 1, prefix="Trial")
    assert pipeline.settle(all_delivered(services, trial), timeout=30)
    assert rows(services, trial)[0].via == "twilio" and router.health.state("twilio") == UP
    later = add_many(services, 10, prefix="Back")
    assert pipeline.settle(all_delivered(services, later), timeout=60)
    assert {r.via for r in rows(services, later)} == {"twilio"}
    sent = copies(sim, backup)
    assert all(sent[f"{p} message {i}"] == 1 for p in ("Down", "Back") for i in range(10))
    assert len([r for r in rows(services) if r.template == "alert.route_down"]) == 1  # one outage, one alert
    with services.sessions() as session:  # the failover, as a report reads it back
        log = [(e.action, e.detail["route"]) for e in session.scalars(
            select(AuditLog).where(AuditLog.action.in_(("route_down", "route_up"))).order_by(AuditLog.id))]
    assert log == [("route_down", "twilio"), ("route_up", "twilio")]


def test_an_account_error_moves_the_message_to_the_next_route_at_once(pipeline, sim, backup, coordinator,
                                                                       monkeypatch):
    services = pipeline.services

    def wrong_token(config):
        return TwilioSender(dataclasses.replace(config, twilio_auth_token="not-the-token"))

    monkeypatch.setitem(senders.SENDERS, "broken", wrong_token)
    pipeline.runtime.configure_routes("default=broken,backup", dlt_routes="", health=QUICK)
    ids = add_many(services, 5)
    assert pipeline.settle(all_delivered(services, ids), timeout=30)
    stored = rows(services, ids)
    assert [r.via for r in stored] == ["backup"] * 5
    assert all(r.attempts == 1 for r in stored)  # handed over within the first attempt: no wait
    assert sim.messages() == []
    assert sorted(n for body, n in copies(backup).items() if body.startswith("Test")) == [1] * 5
    alerts = [r for r in rows(services) if r.template == "alert.route_down"]
    assert len(alerts) == 1 and "broken is down (authentication_failed)" in alerts[0].body
    assert not [r for r in rows(services) if r.template == "alert.account_failure"]  # sending was not paused


def test_a_route_taken_down_by_hand_carries_nothing_until_put_back(pipeline, sim, backup):
    services = pipeline.services
    router = pipeline.runtime.configure_routes("default=twilio,backup", dlt_routes="", health=QUICK)
    router.health.force_down("twilio")
    during = add_many(services, 4, prefix="During")
    assert pipeline.settle(all_delivered(services, during))
    assert {r.via for r in rows(services, during)} == {"backup"} and sim.messages() == []
    router.health.force_up("twilio")
    after = add_many(services, 4, prefix="After")
    assert pipeline.settle(all_delivered(services, after))
    assert {r.via for r in rows(services, after)} == {"twilio"}


def test_a_reply_goes_back_on_the_route_its_message_came_in_on_unless_that_route_is_down(pipeline, sim, backup):
    services = pipeline.services
    router = pipeline.runtime.configure_routes("reply=twilio,backup;default=twilio", dlt_routes="", health=QUICK)
    [came_by_backup] = add_many(services, 1, template="staff.help", via="backup", prefix="Reply")
    [reminder] = add_many(services, 1, template="appt.reminder_eve", priority="bulk", via="backup", prefix="Remind")
    assert pipeline.settle(all_delivered(services, [came_by_backup, reminder]))
    assert [r.via for r in rows(services, [came_by_backup, reminder])] == ["backup", "twilio"]
    router.health.force_down("backup")
    [second] = add_many(services, 1, template="staff.help", via="backup", prefix="Reply2")
    assert pipeline.settle(all_delivered(services, [second]))
    assert rows(services, [second])[0].via == "twilio"


def test_with_twilio_alone_nothing_changes_but_the_route_is_recorded(pipeline, sim):
    services = pipeline.services
    assert pipeline.runtime.configure_routes("") is None  # no router: sending exactly as before
    ids = add_many(services, 3)
    assert pipeline.settle(all_delivered(services, ids))
    assert [r.via for r in rows(services, ids)] == ["twilio"] * 3
    assert sorted(copies(sim).values()) == [1, 1, 1]


class ProbingSender(TwilioSender):
    """A route whose sender can say whether its provider answers (as a gateway phone's health does):
    here by listing one message at the simulator."""

    async def probe(self) -> bool:
        try:
            await self.client.messages.list_async(limit=1)
        except Exception:
            return False
        return True


def test_a_recovering_route_whose_sender_can_tell_is_brought_back_by_its_probe(pipeline, sim, backup_simulator,
                                                                             monkeypatch):
    from tikabot.queue.routes.send import probe_recovering

    closed = "http://127.0.0.1:9"  # nothing listens there
    monkeypatch.setitem(senders.SENDERS, "probed", lambda config: ProbingSender(config))
    monkeypatch.setitem(senders.SENDERS, "gone", lambda config: ProbingSender(
        dataclasses.replace(config, twilio_api_base=closed, twilio_timeout=0.5)))
    rt = pipeline.runtime
    router = rt.configure_routes("default=probed,gone,twilio", dlt_routes="", health=QUICK)
    for route in ("probed", "gone"):
        router.health.take_down(route, "gateway_offline", seconds=0.1)
    assert pipeline.settle(lambda: router.health.state("gone") == HALF_OPEN, relay=False)
    assert rt.run(probe_recovering(rt)) == {"probed": True, "gone": False}
    assert router.health.state("probed") == UP and router.health.state("gone") == DOWN


def test_a_worker_that_died_mid_send_on_the_second_route_leaves_no_duplicate(pipeline, sim, backup):
    """The attempt's route was never written to the row (the worker died before recording it):
    the note taken in Redis when the attempt began names it, and that provider is asked first."""
    import asyncio
    from datetime import timedelta

    from tikabot.core.clock import now
    from tikabot.core.sending import Outgoing

    services = pipeline.services
    router = pipeline.runtime.configure_routes("default=twilio,backup", dlt_routes="", health=QUICK)
    [message_id] = add_many(services, 1, prefix="Crash")
    with services.transaction() as session:  # what the dead worker left: leased, attempt 1 begun
        row = session.get(OutboundMessage, message_id)
        row.status, row.attempts = "sending", 1
        row.attempt_started_at, row.lease_until = now() - timedelta(seconds=5), now() - timedelta(seconds=1)
    router.health.note_attempt(message_id, "backup")
    backup_config = pipeline.runtime.sender("backup").config
    dead_worker = TwilioSender(dataclasses.replace(backup_config, public_base_url=None))  # its callbacks lost too
    loop = asyncio.new_event_loop()
    try:  # its send reached the provider; its answer was lost with it
        loop.run_until_complete(dead_worker.send(Outgoing(message_id, 1, "sms", "+919830000000",
                                                          "Crash message 0", "en", "default", None)))
        loop.run_until_complete(dead_worker.close())
    finally:
        loop.close()
    assert pipeline.settle(lambda: rows(services, [message_id])[0].status in ("sent", "delivered"))
    stored = rows(services, [message_id])[0]
    assert stored.via == "backup" and stored.attempts == 2
    assert copies(sim, backup)["Crash message 0"] == 1
