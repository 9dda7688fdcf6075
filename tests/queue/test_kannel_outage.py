"""A district's Kannel as a route with failover: outbox -> worker -> the simulated smsbox, Twilio after
it. While smsbox is gone the route is taken out of use and Twilio carries its messages, each phone
getting one SMS; once smsbox is back the route is taken back into use, even when no message would
try it (staff text the other number while it is down): the periodic route probe asks smsbox."""
from __future__ import annotations

import dataclasses
from collections import Counter

import pytest
from sqlalchemy import select

from tests.support.credentials import KANNEL_CALLBACK_TOKEN
from tests.support.pipeline import FAST, running_pipeline, outbound_rows as rows
from tikabot.outbox.messages import add_message
from tikabot.queue.routes.health import DOWN, HALF_OPEN, UP, HealthSettings
from tikabot.simulator.config import FaultConfig
from tikabot.simulator.sent import sent_sms
from tikabot.store.models import AuditLog, Staff
from tikabot.tasks.route_probes import run_probes

QUICK = HealthSettings(window_s=30.0, error_rate=0.5, min_errors=3, cooldown_s=0.5, trial_lease_s=2.0)
ROUTES = "default=kannel,twilio"
NOWHERE = "http://127.0.0.1:9/cgi-bin/sendsms"  # the discard port: nothing listens, the connection is refused


def kannel_pipeline(config, simulator, start_live_app, sendsms_url=None):
    defaults = FaultConfig()
    live = start_live_app(dataclasses.replace(
        config, twilio_api_base=simulator.url, twilio_timeout=2.5, send_rate=1000.0,
        kannel_sendsms_url=sendsms_url or f"{simulator.url}/cgi-bin/sendsms", kannel_username=defaults.kannel_username,
        kannel_password=defaults.kannel_password, kannel_from="WBHLTH", kannel_callback_token=KANNEL_CALLBACK_TOKEN,
        kannel_timeout=2.0), FAST)
    return running_pipeline(live.config)


@pytest.fixture
def pipeline(config, simulator, sim, start_live_app):
    with kannel_pipeline(config, simulator, start_live_app) as pipeline:
        with pipeline.services.transaction() as session:
            session.add(Staff(phone="+919830000001", name="Coordinator", role="coordinator", language="en"))
        yield pipeline


def book(services, n, prefix, start=0):
    with services.transaction() as session:
        return [add_message(session, key=f"{prefix}-{i}", recipient=f"+9198302{i:05d}", template="appt.booked",
                            language="en", body=f"{prefix} message {i}").id for i in range(start, start + n)]




def delivered(services, ids):
    return lambda: all(r.status == "delivered" for r in rows(services, ids))


def failovers(services):
    with services.sessions() as session:
        return [(e.action, e.detail["route"]) for e in session.scalars(
            select(AuditLog).where(AuditLog.action.in_(("route_down", "route_up"))).order_by(AuditLog.id))]


def test_kannel_gone_for_a_while_is_taken_out_of_use_and_back_once_smsbox_answers(pipeline, sim):
    services = pipeline.services
    router = pipeline.runtime.configure_routes(ROUTES, dlt_routes="", health=QUICK)
    before = book(services, 10, "Before")
    assert pipeline.settle(delivered(services, before))
    assert {r.via for r in rows(services, before)} == {"kannel"}

    sim.configure(kannel_down="unreachable")  # smsbox drops every connection
    during = book(services, 10, "During", start=10)
    assert pipeline.settle(delivered(services, during), timeout=60)
    assert {r.via for r in rows(services, during)} == {"twilio"}
    assert router.health.state("kannel") in (DOWN, HALF_OPEN)

    sim.configure(kannel_down=None)  # smsbox is back; no message is waiting to try it
    assert pipeline.settle(lambda: router.health.state("kannel") == HALF_OPEN, relay=False)
    assert run_probes() == 1  # the periodic route probe: smsbox answers
    assert router.health.state("kannel") == UP
    assert failovers(services) == [("route_down", "kannel"), ("route_up", "kannel")]

    after = book(services, 5, "After", start=20)
    assert pipeline.settle(delivered(services, after))
    assert {r.via for r in rows(services, after)} == {"kannel"}
    assert set(Counter(m["to"] for m in sent_sms(sim) if m["to"].startswith("+9198302")).values()) == {1}  # each once


def test_a_smsbox_answering_503_to_every_send_is_taken_out_of_use_and_twilio_carries_its_messages(pipeline, sim):
    """bearerbox gone (or no SMSC linked): smsbox answers every sendsms 503 "try again later". Each
    message is retried, and the route, failing them all, is taken out at the error rate: the
    messages go by Twilio instead of waiting on Kannel until their attempts run out."""
    services = pipeline.services
    router = pipeline.runtime.configure_routes(ROUTES, dlt_routes="", health=QUICK)
    sim.configure(kannel_down="503")
    ids = book(services, 8, "Busy")
    assert pipeline.settle(delivered(services, ids), timeout=60)
    assert {r.via for r in rows(services, ids)} == {"twilio"}
    assert router.health.state("kannel") in (DOWN, HALF_OPEN)
    assert failovers(services) == [("route_down", "kannel")]
    assert sim.kannel.view()["sms"] == []  # smsbox took none of them
    assert set(Counter(m["to"] for m in sent_sms(sim) if m["to"].startswith("+9198302")).values()) == {1}


def test_a_probe_while_smsbox_is_still_gone_keeps_the_route_out_of_use(pipeline, sim):
    router = pipeline.runtime.configure_routes(ROUTES, dlt_routes="", health=QUICK)
    router.health.take_down("kannel", "network_error", seconds=0.1)
    sim.configure(kannel_down="unreachable")
    assert pipeline.settle(lambda: router.health.state("kannel") == HALF_OPEN, relay=False)
    assert run_probes() == 0
    assert router.health.state("kannel") == DOWN and failovers(pipeline.services) == []


def test_a_smsbox_that_refuses_the_connection_hands_each_message_to_the_next_route_at_once(
        config, simulator, sim, start_live_app):
    with kannel_pipeline(config, simulator, start_live_app, sendsms_url=NOWHERE) as pipeline:
        services = pipeline.services
        router = pipeline.runtime.configure_routes(ROUTES, dlt_routes="", health=QUICK)
        ids = book(services, 5, "Refused")
        assert pipeline.settle(delivered(services, ids))
        assert [(r.via, r.attempts) for r in rows(services, ids)] == [("twilio", 1)] * 5  # no wait, no retry
        assert router.health.state("kannel") in (DOWN, HALF_OPEN)
        assert failovers(services) == [("route_down", "kannel")]
