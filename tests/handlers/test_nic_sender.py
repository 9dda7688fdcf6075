"""The NIC sender against the simulated NIC gateway: the exact HttpLink request (DLT ids, hex UCS-2),
refusal before anything is sent without a DLT template, every answer code named, a timeout and an
answer lost after the send, and delivery reports reaching the outbox."""
from __future__ import annotations

import asyncio
import dataclasses

import pytest

from tests.support import wait_for
from tikabot.core.sending import ACCOUNT, FAIL, RETRY, UNKNOWN, Outgoing, SendError
from tikabot.dlt.records import DltRecord
from tikabot.handlers.nic import NIC_ERRORS, NicSender, classify, read_answer, ucs2_hex
from tikabot.outbox.messages import add_message
from tikabot.store.models import OutboundMessage

PHONE = "+919830012345"
ENTITY, TEMPLATE = "1201160000000012345", "1207160000000067890"
BODY = "আপনার যাচাই কোড 482913। ১০ মিনিটের মধ্যে টিকাকর্মীকে বলুন।"
DLT = DltRecord(entity_id=ENTITY, template_id=TEMPLATE, header="WBHLTH", sms_type="transactional")
TOKEN = "nic-callback-token-3b8e51d0"


@pytest.fixture
def nic_config(channel_config, simulator):
    return dataclasses.replace(channel_config, nic_url=f"{simulator.url}/failsafe/HttpLink", nic_username="sim.nic",
                               nic_pin="simulator-nic-pin", nic_signature="WBHLTH", nic_callback_token=TOKEN,
                               nic_timeout=1.0)


def outgoing(message_id=11, attempt=1, dlt=DLT, body=BODY) -> Outgoing:
    return Outgoing(id=message_id, attempt=attempt, channel="sms", recipient=PHONE, body=body, language="bn",
                    priority="otp", expires_at=None, dlt=dlt)


def run(config, message):
    async def go():
        sender = NicSender(config)
        try:
            return await sender.send(message)
        except SendError as exc:
            return exc
        finally:
            await sender.close()
    return asyncio.run(go())


def test_ucs2_hex_is_utf16_big_endian_after_a_byte_order_mark():
    assert ucs2_hex("টিকা") == "FEFF099F09BF0995098E"[:4] + "টিকা".encode("utf-16-be").hex().upper()
    assert ucs2_hex("টিকা") == "FEFF099F09BF099509BE"
    assert ucs2_hex("A1") == "FEFF00410031"


def test_nic_receives_exactly_our_message_with_its_dlt_ids(nic_config, sim):
    accepted = run(nic_config, outgoing())
    [sms] = sim.nic.view()["sms"]
    assert accepted.provider_id == sms["request_id"] and accepted.provider_status == "accepted"
    assert {k: sms[k] for k in ("mnumber", "body", "signature", "dlt_entity_id", "dlt_template_id", "msg_type")} == {
        "mnumber": "919830012345", "body": BODY, "signature": "WBHLTH", "dlt_entity_id": ENTITY,
        "dlt_template_id": TEMPLATE, "msg_type": "UC"}


def test_plain_english_goes_as_text_without_msgtype(nic_config, sim):
    run(nic_config, outgoing(body="Your code is 482913."))
    [sms] = sim.nic.view()["sms"]
    assert (sms["body"], sms["msg_type"]) == ("Your code is 482913.", "")


@pytest.mark.parametrize("dlt", [None, DltRecord(entity_id=ENTITY, template_id="", header="WBHLTH", sms_type="t")])
def test_a_send_without_a_dlt_template_is_refused_before_nic(nic_config, sim, dlt):
    error = run(nic_config, outgoing(dlt=dlt))
    assert (error.kind.name, error.kind.action) == ("dlt_unregistered", FAIL)
    assert sim.nic.view()["sms"] == []


@pytest.mark.parametrize("fault, name, action", [
    ("-2", "nic_invalid_credentials", ACCOUNT), ("-19", "nic_unauthorised", ACCOUNT),
    ("-5", "nic_error_5", FAIL), ("500", "provider_error", UNKNOWN), ("timeout", "timeout", UNKNOWN)])
def test_answer_codes_are_named(nic_config, sim, fault, name, action):
    sim.configure(nic_next_faults=[fault])
    error = run(nic_config, outgoing())
    assert (error.kind.name, error.kind.action) == (name, action)
    assert sim.nic.view()["sms"] == []


def test_an_answer_lost_after_the_send_is_an_unknown_outcome(nic_config, sim):
    """NIC has the SMS but we never hear so: the send job must treat it as possibly sent."""
    sim.configure(nic_next_faults=["lost"])
    error = run(nic_config, outgoing())
    assert (error.kind.name, error.kind.action) == ("timeout", UNKNOWN)
    assert len(sim.nic.view()["sms"]) == 1


def test_wrong_pin_is_an_account_error(nic_config, sim):
    error = run(dataclasses.replace(nic_config, nic_pin="wrong"), outgoing())
    assert (error.kind.name, error.kind.action) == ("nic_invalid_credentials", ACCOUNT)


@pytest.mark.parametrize("answer, read", [
    ("000", ("000", None)),
    ("Message Accepted for Request ID=123456789012345678~code=API000 & info=Platform Accepted & Time=2026/12/07/10:05",
     ("000", "123456789012345678")),
    ("Message Accepted for Request ID=987", ("000", "987")),
    ("-2", ("-2", None)), ("-19\r\n", ("-19", None)), ("something else", ("", None))])
def test_answers_are_read(answer, read):
    assert read_answer(answer) == read


@pytest.mark.parametrize("key, action", [(k, v.action) for k, v in NIC_ERRORS.items()]
                         + [("http:502", UNKNOWN), ("-77", FAIL), ("dlr:UNDELIV", RETRY)])
def test_every_code_has_one_kind(key, action):
    assert classify(key).action == action


@pytest.mark.parametrize("delivery_error, final, code", [(None, "delivered", None), ("REJECTD", "failed", "001")])
def test_delivery_reports_reach_the_outbox(sim, nic_config, start_live_app, delivery_error, final, code):
    live = start_live_app(nic_config)
    sim.configure(nic_dlr_url=f"{live.url}/channels/nic/dlr?token={TOKEN}",
                  nic_delivery_errors={PHONE: delivery_error} if delivery_error else {})
    services = live.services
    with services.transaction() as s:
        row = add_message(s, key="n1", recipient=PHONE, template="otp.code", params={"code": "482913", "minutes": 10},
                          language="en", channel="sms")
        row.attempts, row.status, row.via = 1, "sending", "nic"
        message_id = row.id
    accepted = run(live.config, outgoing(message_id=message_id))
    with services.transaction() as s:
        stored = s.get(OutboundMessage, message_id)
        if stored.provider_id is None:
            stored.provider_id, stored.status = accepted.provider_id, "accepted"

    def now():
        with services.sessions() as s:
            found = s.get(OutboundMessage, message_id)
            return found.status, found.last_error_code
    assert wait_for(lambda: now() == (final, code)), now()
