"""C-DAC Mobile Seva as a route with failover: outbox -> worker -> the simulated MSDG API, Twilio
after it. MSDG cannot be asked whether it has a message, so what is shown is the failover that needs
no asking: an answer that says the message was not taken (credits exhausted, MSDG unreachable)
hands it to the next route at once. Every test counts the copies each phone received: exactly one
(0 duplicates, 0 lost)."""
from __future__ import annotations

import dataclasses
from collections import Counter

import pytest
from sqlalchemy import select

from tests.support.dlt import approve_all
from tests.support.pipeline import FAST, outbound_rows as rows
from tests.support.simulator import with_simulated_cdac
from tikabot.handlers.cdac import CdacSender
from tikabot.i18n.samples import sample_params
from tikabot.outbox.messages import add_message
from tikabot.queue.routes.health import DOWN, HALF_OPEN, HealthSettings
from tikabot.simulator.sent import sent_sms
from tikabot.store.models import OutboundMessage, Staff

QUICK = HealthSettings(window_s=30.0, error_rate=0.5, min_errors=3, cooldown_s=30.0, trial_lease_s=2.0)
ROUTES = "default=cdac,twilio"
CARRIED = ("accepted", "sent", "delivered")  # MSDG reports nothing back: "accepted" is its last word


@pytest.fixture
def live(config, simulator, start_live_app):
    return start_live_app(with_simulated_cdac(config, simulator), FAST)


@pytest.fixture
def district(pipeline):
    services = pipeline.services
    approve_all(services, "WBHLTH")
    with services.transaction() as session:
        session.add(Staff(phone="+919830000001", name="Coordinator", role="coordinator", language="en"))
    return services


def book(services, n, prefix, start=0, language="bn"):
    with services.transaction() as session:
        return [add_message(session, key=f"{prefix}-{i}", recipient=f"+9198301{i:05d}", template="appt.booked",
                            language=language, params=sample_params("appt.booked", language)).id
                for i in range(start, start + n)]




def carried(services, ids):
    return lambda: all(r.status in CARRIED for r in rows(services, ids))


def copies(sim) -> Counter:
    """Copies each phone received, by any provider (the simulator's one record of every SMS)."""
    return Counter(entry["to"] for entry in sent_sms(sim))


def test_credits_exhausted_takes_cdac_down_and_twilio_carries_the_rest_none_twice(pipeline, sim, district):
    services = district
    router = pipeline.runtime.configure_routes(ROUTES, dlt_routes="cdac", health=QUICK)
    first = book(services, 10, "Before")
    assert pipeline.settle(carried(services, first), timeout=60)
    assert {r.via for r in rows(services, first)} == {"cdac"}

    sim.configure(cdac_account_error=403)  # the account's credits run out mid-day
    rest = book(services, 20, "After", start=10)
    assert pipeline.settle(carried(services, rest), timeout=60)

    sent = copies(sim)
    assert all(sent[f"+9198301{i:05d}"] == 1 for i in range(30)), sent  # 0 duplicates, 0 lost
    assert {r.via for r in rows(services, rest)} == {"twilio"}
    assert router.health.state("cdac") in (DOWN, HALF_OPEN)
    with services.sessions() as session:
        alerts = list(session.scalars(select(OutboundMessage.body).where(
            OutboundMessage.template == "alert.route_down")))
    assert len(alerts) == 1 and "cdac is down (cdac_credits_exhausted)" in alerts[0]


def test_an_unreachable_msdg_hands_every_message_to_twilio_once(pipeline, sim, district):
    services = district
    pipeline.runtime.configure_routes(ROUTES, dlt_routes="cdac", health=QUICK)
    pipeline.runtime.senders.pop("cdac", None)
    unreachable = dataclasses.replace(services.config, cdac_api_url="http://127.0.0.1:9/esms/sendsmsrequestDLT")
    pipeline.runtime.senders["cdac"] = CdacSender(unreachable)
    ids = book(services, 15, "Gone")
    assert pipeline.settle(carried(services, ids), timeout=90)
    sent = copies(sim)
    assert all(sent[f"+9198301{i:05d}"] == 1 for i in range(15)), sent
    assert sim.cdac.view()["sms"] == [] and {r.via for r in rows(services, ids)} == {"twilio"}
