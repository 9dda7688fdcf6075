"""A domestic Indian route sends only DLT-approved text: without an approved template id the
message is refused there (named error dlt_unregistered), goes by the next route, and
coordinators get one grouped alert however many messages were refused. Once the id is imported,
the domestic route carries the message with its DLT record.

The domestic route here is a test-only Twilio-like account on a second simulator that refuses,
as a real domestic sender must, any message handed to it without a DLT record.
"""
from __future__ import annotations

import dataclasses
import io

import pytest
from sqlalchemy import select

from tests.support.credentials import TEST_AUTH_TOKEN
from tikabot.core.clock import now
from tikabot.dlt import csvfile, store
from tikabot.dlt.records import DLT_CODE, DLT_UNREGISTERED
from tikabot.handlers.twilio_sms import TwilioSender
from tikabot.i18n.samples import sample_params
from tikabot.queue import senders
from tikabot.outbox.messages import add_message
from tikabot.queue.routes.health import HealthSettings
from tikabot.core.sending import SendError
from tikabot.simulator.config import FaultConfig
from tikabot.simulator.server import SimulatorThread
from tikabot.store.models import OutboundMessage, Staff


DOMESTIC_SID = "AC" + "3" * 32
ENTITY, TEMPLATE_ID = "1101234567890123456", "1107160000000000001"
QUICK = HealthSettings(window_s=30.0, min_errors=3, cooldown_s=0.5)


class DomesticLike(TwilioSender):
    """What a domestic sender must do: refuse without a DLT record; here it also keeps them."""
    seen: list = []

    async def send(self, message):
        if message.dlt is None:
            raise SendError(DLT_UNREGISTERED, DLT_CODE, "no approved DLT template")
        DomesticLike.seen.append(message.dlt)
        return await super().send(message)


@pytest.fixture(scope="module")
def domestic_simulator():
    with SimulatorThread(FaultConfig(account_sid=DOMESTIC_SID, auth_token=TEST_AUTH_TOKEN, seed=7,
                                     sent_delay_s=0.01, delivered_delay_s=0.02)) as thread:
        yield thread


@pytest.fixture
def domestic(domestic_simulator, monkeypatch, pipeline):
    domestic_simulator.sim.reset(config=True)
    DomesticLike.seen = []
    monkeypatch.setitem(senders.SENDERS, "domestic", lambda config: DomesticLike(dataclasses.replace(
        config, twilio_api_base=domestic_simulator.url, twilio_account_sid=DOMESTIC_SID)))
    with pipeline.services.transaction() as session:
        session.add(Staff(phone="+919830000001", name="Coordinator", role="coordinator", language="en"))
    return domestic_simulator.sim


def book(services, n, prefix, language="en"):
    ids = []
    with services.transaction() as session:
        for i in range(n):
            ids.append(add_message(session, key=f"{prefix}-{i}", recipient=f"+9198301{i:05d}", template="appt.booked",
                                   language=language, params=sample_params("appt.booked", language)).id)
    return ids


def rows(services, ids=None, template=None):
    with services.sessions() as session:
        query = select(OutboundMessage).order_by(OutboundMessage.id)
        if ids is not None:
            query = query.where(OutboundMessage.id.in_(ids))
        if template is not None:
            query = query.where(OutboundMessage.template == template)
        return list(session.scalars(query))


def settled(services, ids, statuses=("delivered",)):
    return lambda: all(r.status in statuses for r in rows(services, ids))


# The test's domestic route reports through Twilio's status webhook with Twilio's credential, which
# may settle only what Twilio carried: its own messages stay with the provider, never delivered here.
WITH_THE_PROVIDER = ("accepted", "sent", "delivered")


def approve(services, key, language):
    exported = csvfile.export_rows(ENTITY, "TIKABT")
    for row in exported:
        if (row["tikabot_key"], row["language"]) == (key, language):
            row["template_id"] = TEMPLATE_ID
    out = io.StringIO()
    csvfile.write_csv(exported, out)
    approved, problems, _ = csvfile.read_csv(out.getvalue().encode())
    assert problems == []
    with services.transaction() as session:
        store.save(session, approved, now())


def test_without_an_approved_id_the_domestic_route_refuses_and_one_grouped_alert_tells_coordinators(
        pipeline, sim, domestic):
    services = pipeline.services
    pipeline.runtime.configure_routes("default=domestic,twilio", dlt_routes="domestic", health=QUICK)
    first = book(services, 12, "A")
    assert pipeline.settle(settled(services, first))
    assert {r.via for r in rows(services, first)} == {"twilio"}  # refused on the domestic route, sent by the next
    assert domestic.messages() == [] and len(sim.messages(to=None)) >= 12
    second = book(services, 8, "B")
    assert pipeline.settle(settled(services, second))
    [alert] = rows(services, template="alert.dlt_unregistered")  # one, for 20 refusals in two batches
    assert alert.body == ("Not sent on domestic: no approved DLT template for appt.booked (en). Register them on "
                          "the DLT portal, then run tikabot dlt import.")
    assert not rows(services, template="alert.route_down")  # a refusal says nothing about the route's health
    assert pipeline.runtime.router.health.state("domestic") == "up"


def test_once_the_id_is_imported_the_domestic_route_carries_it_with_its_dlt_record(pipeline, sim, domestic):
    services = pipeline.services
    router = pipeline.runtime.configure_routes("default=domestic,twilio", dlt_routes="domestic", health=QUICK)
    approve(services, "appt.booked", "en")
    router.dlt.forget()  # a worker re-reads the approved ids every 30 s; the test does not wait
    english = book(services, 3, "E")
    bengali = book(services, 2, "N", language="bn")  # its Bengali template is not approved: by Twilio
    assert pipeline.settle(settled(services, english, WITH_THE_PROVIDER))
    assert pipeline.settle(settled(services, bengali))
    assert [r.via for r in rows(services, english + bengali)] == ["domestic"] * 3 + ["twilio"] * 2
    assert len(domestic.messages()) == 3
    record = DomesticLike.seen[0]
    assert (record.template_id, record.entity_id, record.header, record.sms_type, record.content_type) == (
        TEMPLATE_ID, ENTITY, "TIKABT", "transactional", "Text")
    [alert] = rows(services, template="alert.dlt_unregistered")
    assert "appt.booked (bn)" in alert.body


def test_with_only_a_domestic_route_an_unregistered_template_fails_with_the_named_error(pipeline, sim, domestic):
    services = pipeline.services
    pipeline.runtime.configure_routes("default=domestic", dlt_routes="domestic", health=QUICK)
    ids = book(services, 2, "F")
    assert pipeline.settle(settled(services, ids, "failed"))
    assert {r.last_error_code for r in rows(services, ids)} == {DLT_CODE}
    assert domestic.messages() == [] and sim.messages() == []
