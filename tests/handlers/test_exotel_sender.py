"""The Exotel sender against the simulated Exotel API: the exact request, DLT refusal before anything
is sent, named errors, the voice call for an OTP, and delivery callbacks reaching the outbox."""
from __future__ import annotations

import asyncio
import dataclasses
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support import wait_for
from tikabot.handlers.android_gateway import AndroidSender
from tikabot.handlers.exotel import EXOTEL_ERRORS, DltRecord, ExotelSender, classify
from tikabot.outbox.messages import add_message
from tikabot.core.sending import ACCOUNT, FAIL, RETRY, UNKNOWN, Outgoing, SendError
from tikabot.store.models import OutboundMessage

PHONE = "+919830012345"
ENTITY, TEMPLATE = "1201160000000012345", "1207160000000067890"
BODY = "আপনার যাচাই কোড 482913। ১০ মিনিটের মধ্যে টিকাকর্মীকে বলুন।"
DLT = DltRecord(entity_id=ENTITY, template_id=TEMPLATE, header="WBHLTH", sms_type="transactional")


@dataclasses.dataclass(frozen=True)
class WithDlt(Outgoing):
    dlt: DltRecord | None = None


def outgoing(message_id=11, attempt=1, dlt=DLT, **kw) -> WithDlt:
    return WithDlt(id=message_id, attempt=attempt, channel="exotel", recipient=kw.pop("recipient", PHONE),
                   body=kw.pop("body", BODY), language="bn", priority="otp", expires_at=None, dlt=dlt)


def run(config, message, voice=False):
    async def go():
        sender = ExotelSender(config, voice=voice)
        try:
            return await sender.send(message)
        except SendError as exc:
            return exc
        finally:
            await sender.close()
    return asyncio.run(go())


def test_exotel_receives_exactly_our_message_with_its_dlt_ids(channel_config, sim):
    config = dataclasses.replace(channel_config, public_base_url="https://127.0.0.1:9")  # its callback: refused
    accepted = run(config, outgoing())
    [sms] = sim.exotel.view()["sms"]
    assert accepted.provider_id == sms["sid"] and accepted.provider_status == "accepted"
    callback = sms.pop("status_callback")
    assert {k: sms[k] for k in ("from_", "to", "body", "dlt_entity_id", "dlt_template_id", "sms_type",
                                "encoding_type", "custom_field")} == {
        "from_": "WBHLTH", "to": PHONE, "body": BODY, "dlt_entity_id": ENTITY, "dlt_template_id": TEMPLATE,
        "sms_type": "transactional", "encoding_type": "unicode", "custom_field": "11-1"}
    url = urlsplit(callback)
    assert (url.scheme, url.netloc, url.path) == ("https", "127.0.0.1:9", "/channels/exotel/status")
    assert parse_qs(url.query) == {"token": ["exotel-callback-token-7f3a9c"], "id": ["11"], "attempt": ["1"]}


def test_plain_english_goes_as_plain_text(channel_config, sim):
    run(channel_config, outgoing(body="Your code is 482913. Tell it to the vaccinator within 10 minutes."))
    [sms] = sim.exotel.view()["sms"]
    assert sms["encoding_type"] == "plain"


@pytest.mark.parametrize("dlt", [None, DltRecord(entity_id=ENTITY, template_id="")])
def test_domestic_send_without_a_dlt_template_is_refused_before_exotel(channel_config, sim, dlt):
    error = run(channel_config, outgoing(dlt=dlt))
    assert (error.kind.name, error.kind.action, error.code) == ("dlt_unregistered", FAIL, "dlt_unregistered")
    assert sim.exotel.view()["sms"] == [] and sim.records.counts().get("exotel_sms") is None


def test_entity_id_may_come_from_the_config(channel_config, sim):
    config = dataclasses.replace(channel_config, exotel_dlt_entity_id=ENTITY)
    run(config, outgoing(dlt=DltRecord(entity_id=None, template_id=TEMPLATE)))
    [sms] = sim.exotel.view()["sms"]
    assert (sms["dlt_entity_id"], sms["from_"]) == (ENTITY, "WBHLTH")


@pytest.mark.parametrize("fault, name, action", [
    ("429", "rate_limited", RETRY),
    ("500", "provider_error", UNKNOWN),
    ("502", "provider_error", UNKNOWN),
    ("400", "exotel_bad_request", FAIL),
    ("timeout", "timeout", UNKNOWN),
])
def test_api_errors_are_named(channel_config, sim, fault, name, action):
    sim.configure(exotel_next_faults=[fault])
    error = run(channel_config, outgoing())
    assert (error.kind.name, error.kind.action) == (name, action)


@pytest.mark.parametrize("status, name", [(401, "authentication_failed"), (402, "insufficient_balance"),
                                          (403, "account_forbidden")])
def test_account_down_stops_sending_and_alerts(channel_config, sim, status, name):
    sim.configure(exotel_account_error=status)
    error = run(channel_config, outgoing())
    assert (error.kind.name, error.kind.action) == (name, ACCOUNT)


def test_wrong_api_token_is_an_account_error(channel_config, sim):
    error = run(dataclasses.replace(channel_config, exotel_api_token="wrong"), outgoing())
    assert (error.kind.name, error.kind.action, error.code) == ("authentication_failed", ACCOUNT, "401")


def test_not_configured_is_a_slow_retry_not_a_failure(channel_config, sim):
    error = run(dataclasses.replace(channel_config, exotel_account_sid=None), outgoing())
    assert (error.kind.name, error.kind.action) == ("exotel_not_configured", RETRY)


@pytest.mark.parametrize("code, action", [
    (23005, FAIL), (23010, FAIL), (23015, FAIL), (23072, FAIL), (23080, FAIL), (23182, FAIL), (23185, FAIL),
    (23035, RETRY), (24105, RETRY), (24110, RETRY), (24990, RETRY), (23030, RETRY),
])
def test_detailed_status_codes_are_classified(code, action):
    assert classify(code).action == action
    assert code in EXOTEL_ERRORS


def test_an_otp_call_reads_the_code_through_the_call_flow(channel_config, sim):
    accepted = run(channel_config, outgoing(), voice=True)
    [call] = sim.exotel.view()["calls"]
    assert (call["From"], call["CallerId"], call["Url"], call["CustomField"]) == (
        PHONE, "08047112233", "http://my.exotel.com/simexotel/exoml/start_voice/42", "bn:4 8 2 9 1 3")
    assert accepted.provider_id == call["Sid"] and accepted.provider_status == "sent"


@pytest.mark.parametrize("delivery_error, final, code", [(None, "delivered", None), (23185, "failed", "23185"),
                                                         (23005, "failed", "23005")])
def test_delivery_callbacks_reach_the_outbox(live, simulator, delivery_error, final, code):
    if delivery_error:
        simulator.sim.configure(exotel_delivery_errors={PHONE: delivery_error})
    services = live.app.extensions["tikabot"]
    with services.transaction() as s:
        row = add_message(s, key="x1", recipient=PHONE, template="otp.code", params={"code": "482913", "minutes": 10},
                          language="en", channel="exotel")
        row.attempts, row.status = 1, "sending"
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
    assert wait_for(lambda: now() == (final, code))


def test_an_sms_to_the_exophone_reaches_the_inbox(live, simulator):
    import json
    import urllib.request

    from sqlalchemy import select

    from tikabot.store.models import InboundMessage

    url = f"{live.url}/channels/exotel/inbound?token=exotel-callback-token-7f3a9c"
    request = urllib.request.Request(f"{simulator.url}/_sim/exotel/receive", method="POST",
                                     data=json.dumps({"from": "09830011111", "body": "না", "url": url}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        result = json.loads(answer.read())
    assert (result["status"], result["reply"]) == (200, "")
    services = live.app.extensions["tikabot"]
    with services.sessions() as s:
        [row] = s.scalars(select(InboundMessage))
    assert (row.sender, row.body, row.provider_id) == ("+919830011111", "না", result["params"]["SmsSid"])


def test_rehearsal_settings_make_a_working_pair(simulator, config, monkeypatch):
    """india_channels() gives tikabot's environment and the simulator's phones that agree."""
    from tikabot.config import Config
    from tikabot.simulator.config import india_channels

    env, sim_changes = india_channels(simulator.url, "http://127.0.0.1:9", phone_ids=("ranaghat", "kalyani"))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = Config.from_env(dotenv=False)
    assert [p.id for p in settings.smsgate_phones] == ["ranaghat", "kalyani"]
    assert {p.signing_key for p in settings.smsgate_phones} == {v["signing_key"] for v in sim_changes["smsgate_phones"].values()}
    simulator.sim.reset(config=True)
    simulator.sim.configure(**sim_changes)
    settings = dataclasses.replace(settings, database_url=config.database_url, redis_url=config.redis_url)
    accepted = run(settings, outgoing())
    assert accepted.provider_id == simulator.sim.exotel.view()["sms"][0]["sid"]

    async def through_a_phone():
        sender = AndroidSender(settings)
        try:
            return await sender.send(outgoing())
        finally:
            await sender.close()
    assert asyncio.run(through_a_phone()).provider_id == "tb-11-1"
    assert len(simulator.sim.smsgate.view()) == 1
    simulator.sim.reset(config=True)


def probe(config) -> bool:
    async def go():
        sender = ExotelSender(config)
        try:
            return await sender.probe()
        finally:
            await sender.close()
    return asyncio.run(go())


@pytest.mark.parametrize("account_error, changed, back", [
    (None, {}, True),                                       # "SMS not found": the account answers
    (403, {}, False),                                       # suspended, out of balance
    (None, {"exotel_api_token": "wrong"}, False),           # 401
    (None, {"exotel_account_sid": "someoneelse"}, False),   # "Account not found"
    (None, {"exotel_api_base": "http://127.0.0.1:9"}, False)])  # nothing listens
def test_the_probe_says_the_account_is_back_only_when_it_answers_and_sends_nothing(
        channel_config, sim, account_error, changed, back):
    sim.configure(exotel_account_error=account_error)
    assert probe(dataclasses.replace(channel_config, **changed)) is back
    assert sim.exotel.sms == {}
