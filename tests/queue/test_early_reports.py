"""A delivery report that comes before the send's own record still settles the message.

The send job records a batch after its last send, so a provider's report can reach our app first.
NIC's report names only NIC's request id, which no row holds until that record: the report is kept
and applied once the record names the id. Kannel's report names our message and attempt as well.
The system tests hold each send until the simulated provider's delivered report has been answered
by our app, so the report comes first every time; the phone gets one SMS and the message ends
delivered."""
from __future__ import annotations

import asyncio
import dataclasses
import time

import pytest
from tests.support.credentials import KANNEL_CALLBACK_TOKEN, NIC_CALLBACK_TOKEN
from tests.support.dlt import approve_all
from tests.support.pipeline import FAST, running_pipeline
from tikabot.core import handoffs
from tikabot.core.clock import now
from tikabot.core.sending import Accepted, StatusReport
from tikabot.handlers import nic
from tikabot.handlers.kannel import KannelSender
from tikabot.handlers.nic import NicSender
from tikabot.i18n.samples import sample_params
from tikabot.outbox.messages import add_message
from tikabot.queue import early, ledger, senders
from tikabot.queue.callbacks import KEPT, apply_kept, apply_report
from tikabot.queue.settings import SendSettings
from tikabot.simulator.config import FaultConfig
from tikabot.simulator.sent import sent_sms
from tikabot.store.models import OutboundMessage

PHONE = "+919830012345"
HEADER = "WBHLTH"


class ReportedFirst:
    """A route's sender whose send returns only once `reported(message, accepted)` holds: the
    provider's delivery report has been answered by our app before the send job records the send."""

    def __init__(self, sender, reported):
        self.sender, self.reported = sender, reported

    async def send(self, message):
        accepted = await self.sender.send(message)
        deadline = time.monotonic() + 15  # bounds a failing test only
        while not self.reported(message, accepted) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return accepted

    def __getattr__(self, name):
        return getattr(self.sender, name)


def nic_delivered(sim):
    return lambda message, accepted: any(
        r["requestid"] == accepted.provider_id and r["status"] == "DELIVRD" and r["http_status"] == 200
        for r in sim.nic.view()["reports"])


def kannel_delivered(sim):
    return lambda message, accepted: any(
        f"id={message.id}&attempt={message.attempt}&status=1&" in r["url"] and r["http_status"] == 200
        for r in sim.kannel.view()["reports"])


@pytest.fixture
def government(config, simulator, sim, start_live_app):
    """Our app on loopback with NIC and Kannel set up against the simulator, which reports to it."""
    defaults = FaultConfig()
    live = start_live_app(dataclasses.replace(
        config, twilio_api_base=simulator.url, twilio_timeout=2.5, send_rate=1000.0,
        nic_url=f"{simulator.url}/failsafe/HttpLink", nic_username=defaults.nic_username, nic_pin=defaults.nic_pin,
        nic_signature=HEADER, nic_callback_token=NIC_CALLBACK_TOKEN, nic_timeout=2.0,
        kannel_sendsms_url=f"{simulator.url}/cgi-bin/sendsms", kannel_username=defaults.kannel_username,
        kannel_password=defaults.kannel_password, kannel_from=HEADER, kannel_callback_token=KANNEL_CALLBACK_TOKEN,
        kannel_timeout=2.0), FAST)
    sim.configure(nic_dlr_url=f"{live.url}/channels/nic/dlr?token={NIC_CALLBACK_TOKEN}")
    with running_pipeline(live.config) as pipeline:
        approve_all(pipeline.services, HEADER)
        yield pipeline


def booked(services) -> int:
    with services.transaction() as session:
        return add_message(session, key="early-1", recipient=PHONE, template="appt.booked", language="bn",
                           params=sample_params("appt.booked", "bn")).id


def row(services, message_id) -> OutboundMessage:
    with services.sessions() as session:
        return session.get(OutboundMessage, message_id)


@pytest.mark.parametrize("route, sender, reported, domestic", [
    ("nic", NicSender, nic_delivered, "nic"), ("kannel", KannelSender, kannel_delivered, "")])
def test_a_report_that_comes_before_the_send_is_recorded_marks_the_message_delivered(
        government, sim, monkeypatch, route, sender, reported, domestic):
    monkeypatch.setitem(senders.SENDERS, route, lambda config: ReportedFirst(sender(config), reported(sim)))
    government.runtime.configure_routes(f"default={route}", dlt_routes=domestic)
    message_id = booked(government.services)
    government.drain()  # the send, its report answered by our app, then the send's record
    assert government.settle(lambda: row(government.services, message_id).status == "delivered", timeout=20), (
        row(government.services, message_id).status)
    stored = row(government.services, message_id)
    assert (stored.via, stored.attempts) == (route, 1)
    assert [m["to"] for m in sent_sms(sim)] == [PHONE]  # one SMS, nothing sent twice


# --- the same, step by step ----------------------------------------------------------------------

NIC_ID = "1790000000000000777"


def sending(services, via=None) -> int:
    """A message its send job has handed to NIC, the send not recorded yet."""
    with services.transaction() as session:
        message = add_message(session, key="nic-1", recipient=PHONE, template="otp.code", language="en",
                              params={"code": "482913", "minutes": 10})
        message.status, message.attempts, message.via = "sending", 1, via
        session.flush()
        message_id = message.id
    handoffs.note(services.redis, message_id, 1, "nic")
    return message_id


def report(services, word: str, provider_id: str = NIC_ID, via: str | None = "nic") -> str:
    read = nic.parse_report({"requestid": provider_id, "status": word})
    with services.transaction() as session:
        return apply_report(session, dataclasses.replace(read, via=via), now=now(), settings=SendSettings(),
                            redis=services.redis)


def record(services, message_id: int, provider_id: str = NIC_ID) -> None:
    with services.transaction() as session:
        ledger.record(session, [ledger.Outcome(message_id, 1, "accepted", accepted=Accepted(provider_id, "accepted"),
                                               via="nic")], now())


@pytest.mark.parametrize("word, final", [("DELIVRD", "delivered"), ("REJECTD", "failed")])
def test_an_early_report_is_kept_then_applied_once_the_record_names_its_id(services, word, final):
    message_id = sending(services)
    assert report(services, word) == KEPT
    assert row(services, message_id).status == "sending"  # nothing to settle yet
    record(services, message_id)
    assert apply_kept(services, [NIC_ID], settings=SendSettings()) == {NIC_ID: final}
    assert row(services, message_id).status == final
    assert apply_kept(services, [NIC_ID], settings=SendSettings()) == {}  # applied once, then forgotten


def test_reports_kept_for_one_message_are_applied_in_the_order_they_came(services):
    message_id = sending(services)
    assert [report(services, w) for w in ("ACCEPTD", "DELIVRD")] == [KEPT, KEPT]
    record(services, message_id)
    apply_kept(services, [NIC_ID], settings=SendSettings())
    assert row(services, message_id).status == "delivered"


def test_a_report_kept_while_the_record_commits_is_applied_by_its_own_request(services):
    """The report found no row, the send's record committed and looked for kept reports before this
    one was kept: the report's request looks once more after keeping it (web/reports.py)."""
    message_id = sending(services)
    record(services, message_id)
    assert apply_kept(services, [NIC_ID], settings=SendSettings()) == {}  # the record's look: nothing kept yet
    # what the report's request keeps after finding no row (it looked before the record committed)
    assert early.keep(services.redis, StatusReport(NIC_ID, "delivered", None, None, None, via="nic"))
    assert apply_kept(services, [NIC_ID], settings=SendSettings()) == {NIC_ID: "delivered"}
    assert row(services, message_id).status == "delivered"


def test_a_report_read_from_the_provider_or_naming_what_another_route_carried_is_not_kept(services):
    assert report(services, "DELIVRD", provider_id="1790000000000000999", via=None) == "unknown message"
    with services.transaction() as session:  # Twilio carried this one, under that id
        other = add_message(session, key="tw-1", recipient=PHONE, template="otp.code", language="en",
                            params={"code": "482913", "minutes": 10})
        other.status, other.attempts, other.via, other.provider_id = "accepted", 1, "twilio", "SM" + "1" * 32
        session.flush()
        other_id = other.id
    assert report(services, "DELIVRD", provider_id="SM" + "1" * 32) == "unknown message"
    assert apply_kept(services, ["1790000000000000999", "SM" + "1" * 32], settings=SendSettings()) == {}
    assert row(services, other_id).status == "accepted"


def test_a_report_both_looks_missed_is_applied_by_the_periodic_sweep(services, monkeypatch):
    """The report was kept; the send's record committed but its worker stopped before looking for
    kept reports, and the report's own look came before the record: the sweep applies it, and
    leaves a report whose provider id no row holds yet for later."""
    from tikabot import services as process
    from tikabot.tasks.early_reports import run_early_reports

    message_id = sending(services)
    assert report(services, "DELIVRD") == KEPT
    assert early.keep(services.redis, StatusReport("1790000000000000888", "delivered", None, None, None, via="nic"))
    record(services, message_id)  # no apply_kept after it
    assert row(services, message_id).status == "accepted"
    monkeypatch.setattr(process, "_process", services)  # the worker's own services
    assert run_early_reports() == 1
    assert row(services, message_id).status == "delivered"
    assert sorted(early.kept_ids(services.redis)) == ["1790000000000000888"]  # no row holds it: kept
