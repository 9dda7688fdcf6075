"""The simulated Kannel smsbox (tikabot/simulator/kannel_api.py) against tikabot's own Kannel sender:
it must answer and report exactly as the real one does (tests/fixtures/kannel/, test_kannel_real.py),
or a rehearsal on the Kannel route would prove nothing."""
from __future__ import annotations

import asyncio
import dataclasses
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.support.credentials import KANNEL_CALLBACK_TOKEN
from tests.support.waiting import wait_for
from tikabot.core.sending import ACCOUNT, RETRY, UNKNOWN, Outgoing, SendError
from tikabot.handlers.kannel import KannelSender, parse_report
from tikabot.simulator.config import FaultConfig
from tikabot.simulator.sent import sent_sms

PHONE = "+919830012345"
BENGALI = "নথিভুক্ত: 12345678 রহিমা, ডোজ ১।"


@pytest.fixture
def kannel_config(channel_config, simulator):
    defaults = FaultConfig()
    return dataclasses.replace(channel_config, kannel_sendsms_url=f"{simulator.url}/cgi-bin/sendsms",
                               kannel_username=defaults.kannel_username, kannel_password=defaults.kannel_password,
                               kannel_from="WBHLTH", kannel_callback_token=KANNEL_CALLBACK_TOKEN, kannel_timeout=2.0)


def outgoing(body=BENGALI, message_id=11, attempt=1) -> Outgoing:
    return Outgoing(id=message_id, attempt=attempt, channel="sms", recipient=PHONE, body=body, language="bn",
                    priority="reply", expires_at=None, dlt=None)


def run(config, message):
    async def go():
        sender = KannelSender(config)
        try:
            return await sender.send(message)
        except SendError as exc:
            return exc
        finally:
            await sender.close()
    return asyncio.run(go())


def reports_of(sim) -> list[dict]:
    return sim.kannel.view()["reports"]


def test_a_bengali_sms_is_accepted_intact_and_reported_sent_then_delivered(kannel_config, sim):
    accepted = run(kannel_config, outgoing())
    assert accepted.provider_id == "kannel-11-1"
    [sms] = sim.kannel.view()["sms"]
    assert (sms["to"], sms["text"], sms["coding"], sms["sender"]) == (PHONE, BENGALI, "2", "WBHLTH")
    assert wait_for(lambda: len(reports_of(sim)) == 2, 5)
    # %d filled in as Kannel does: 8 (the SMSC's ack) then 1 (the phone's), read by tikabot's own parser
    read = [parse_report(dict(parse_qsl(urlsplit(r["url"]).query, keep_blank_values=True))) for r in reports_of(sim)]
    assert [(r.provider_id, r.status) for r in read] == [("kannel-11-1", "sent"), ("kannel-11-1", "delivered")]
    [entry] = sent_sms(sim)
    assert (entry["provider"], entry["sid"], entry["outbox_id"], entry["body"]) == ("kannel", "kannel-11-1", "11",
                                                                                    BENGALI)


def test_a_number_the_operator_cannot_reach_is_reported_not_delivered(kannel_config, sim):
    sim.configure(kannel_delivery_errors={PHONE: "absent"})
    run(kannel_config, outgoing(body="Your dose is recorded."))
    assert wait_for(lambda: len(reports_of(sim)) == 2, 5)
    last = parse_report(dict(parse_qsl(urlsplit(reports_of(sim)[-1]["url"]).query, keep_blank_values=True)))
    assert (last.status, last.kind.name) == ("undelivered", "not_delivered_to_phone")
    assert sent_sms(sim)[0]["final_status"] == "undelivered"


def test_a_wrong_sendsms_password_is_an_account_error(kannel_config, sim):
    error = run(dataclasses.replace(kannel_config, kannel_password="wrong"), outgoing())
    assert (error.kind.name, error.kind.action, error.code) == ("kannel_auth_failed", ACCOUNT, "403")
    assert sim.kannel.view()["sms"] == []


@pytest.mark.parametrize("down, kind, action", [("503", "kannel_busy", RETRY),
                                                ("unreachable", "network_error", UNKNOWN)])  # dropped: sent or not?
def test_a_smsbox_down_refuses_every_send_and_sends_nothing(kannel_config, sim, down, kind, action):
    sim.configure(kannel_down=down)
    error = run(kannel_config, outgoing())
    assert isinstance(error, SendError) and (error.kind.name, error.kind.action) == (kind, action)
    assert sim.kannel.view()["sms"] == []


def probe(config) -> bool:
    async def go():
        sender = KannelSender(config)
        try:
            return await sender.probe()
        finally:
            await sender.close()
    return asyncio.run(go())


@pytest.mark.parametrize("down, password, back", [(None, None, True), ("unreachable", None, False),
                                                  ("503", None, False), (None, "wrong", False)])
def test_the_probe_says_smsbox_is_back_only_when_it_takes_our_credentials_and_sends_nothing(
        kannel_config, sim, down, password, back):
    sim.configure(kannel_down=down)
    config = dataclasses.replace(kannel_config, kannel_password=password or kannel_config.kannel_password)
    assert probe(config) is back
    assert sim.kannel.view()["sms"] == []


def test_an_answer_lost_after_the_send_still_names_our_message(kannel_config, sim):
    """smsbox took it, the answer never came: the copy is on its way and its reports carry our id."""
    sim.configure(kannel_next_faults=["lost"], timeout_sleep_s=3.0)
    error = run(kannel_config, outgoing(message_id=12))
    assert isinstance(error, SendError) and (error.kind.name, error.kind.action) == ("timeout", UNKNOWN)
    [entry] = sent_sms(sim)
    assert (entry["sid"], entry["outbox_id"]) == ("kannel-12-1", "12")
