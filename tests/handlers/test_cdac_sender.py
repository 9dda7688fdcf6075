"""The C-DAC Mobile Seva sender against the simulated MSDG API: the exact form (hashed password,
per-message SHA-512 key, template id, Unicode as entities), the OTP service type, `402,MsgID` read as
accepted, and every documented answer code as one named error kind."""
from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import re

import pytest

from tikabot.core.sending import ACCOUNT, FAIL, RETRY, UNKNOWN, Outgoing, SendError
from tikabot.dlt.records import DltRecord
from tikabot.handlers.cdac import CDAC_ERRORS, CdacSender, classify
from tikabot.handlers.cdac_client import entities, from_entities, parse_answer, send_form
from tikabot.simulator.config import FaultConfig

PHONE, OTHER = "+919830012345", "+919830054321"
ENTITY, TEMPLATE, OTP_TEMPLATE = "1201160000000012345", "1207160000000067890", "1207160000000011111"
BENGALI = "আপনার টিকার সময় কাল সকাল ১০টা, রানাঘাট উপস্বাস্থ্যকেন্দ্র।"
OTP_BODY = "482913 is your vaccination verification code. Tell it to the vaccinator within 10 minutes."


def record(template="appt.reminder_eve", template_id=TEMPLATE, header="WBHLTH"):
    return DltRecord(entity_id=ENTITY, template_id=template_id, header=header, sms_type="transactional",
                     template=template, language="bn")


def outgoing(body=BENGALI, dlt=None, recipient=PHONE, message_id=11) -> Outgoing:
    return Outgoing(id=message_id, attempt=1, channel="sms", recipient=recipient, body=body, language="bn",
                    priority="default", expires_at=None, dlt=dlt if dlt is not None else record())


@pytest.fixture
def cdac_config(channel_config, simulator):
    defaults = FaultConfig()
    return dataclasses.replace(channel_config, cdac_username=defaults.cdac_username,
                               cdac_password=defaults.cdac_password, cdac_secure_key=defaults.cdac_secure_key,
                               cdac_api_url=f"{simulator.url}/esms/sendsmsrequestDLT")


def run(config, message):
    async def go():
        sender = CdacSender(config)
        try:
            return await sender.send(message)
        except SendError as exc:
            return exc
        finally:
            await sender.close()
    return asyncio.run(go())


def test_bengali_goes_as_unicode_entities_with_its_template_and_key(cdac_config, sim):
    accepted = run(cdac_config, outgoing())
    [sms] = sim.cdac.view()["sms"]
    assert (accepted.provider_id, accepted.provider_status) == (sms["msg_id"], "accepted")  # never "delivered"
    assert {k: sms[k] for k in ("sender_id", "numbers", "text", "service_type", "template_id", "entity_id")} == {
        "sender_id": "WBHLTH", "numbers": ["9830012345"], "text": BENGALI, "service_type": "unicodemsg",
        "template_id": TEMPLATE, "entity_id": ENTITY}


def test_the_form_is_what_cdac_documents():
    form = send_form(username="wbhealth", password="pass1234", secure_key="9f1c-key", sender_id="WBHLTH",
                     text=" টিকা ", numbers=["9830012345"], template_id=TEMPLATE, unicode=True, otp=False)
    assert form["content"] == "&#2463;&#2495;&#2453;&#2494;"
    assert form["password"] == hashlib.sha1(b"pass1234").hexdigest()
    assert form["key"] == hashlib.sha512(("wbhealthWBHLTH" + form["content"] + "9f1c-key").encode()).hexdigest()
    assert (form["smsservicetype"], form["bulkmobno"], form["templateid"]) == ("unicodemsg", "9830012345", TEMPLATE)


def test_entities_round_trip_beyond_the_bmp():
    text = "টিকা ✔ 𝟙"
    assert from_entities(entities(text)) == text


def test_an_otp_goes_by_the_otp_service_type(cdac_config, sim):
    run(cdac_config, outgoing(body=OTP_BODY, dlt=record("otp.code", OTP_TEMPLATE)))
    run(cdac_config, outgoing(body="আপনার কোড 482913", dlt=record("otp.code", OTP_TEMPLATE), message_id=12))
    assert [(s["service_type"], s["numbers"]) for s in sim.cdac.view()["sms"]] == [
        ("otpmsg", ["9830012345"]), ("unicodeotpmsg", ["9830012345"])]


def test_the_otp_type_takes_two_numbers_a_call_and_refuses_three(cdac_config, sim):
    two = send_form(username=sim.config.cdac_username, password=sim.config.cdac_password,
                    secure_key=sim.config.cdac_secure_key, sender_id="WBHLTH", text=OTP_BODY,
                    numbers=["9830012345", "9830054321"], template_id=OTP_TEMPLATE, unicode=False, otp=True)
    with pytest.raises(ValueError, match="at most 2 numbers"):
        send_form(username="u", password="p", secure_key="k", sender_id="WBHLTH", text=OTP_BODY,
                  numbers=["9830012345", "9830054321", "9830000000"], template_id=OTP_TEMPLATE, unicode=False, otp=True)

    async def post(form):
        from tikabot.handlers.cdac_client import CdacClient
        client = CdacClient(cdac_config.cdac_api_url)
        try:
            return await client.send(form)
        finally:
            await client.close()
    assert asyncio.run(post(two)).code == 402
    three = {**two, "mobileno": "9830012345,9830054321,9830000000"}
    assert asyncio.run(post(three)).code == 417  # what MSDG says to anyone who tries
    assert sim.cdac.view()["sms"][0]["numbers"] == ["9830012345", "9830054321"]


def test_a_message_without_an_approved_template_never_reaches_cdac(cdac_config, sim):
    error = run(cdac_config, dataclasses.replace(outgoing(), dlt=None))
    assert (error.kind.name, error.kind.action) == ("dlt_unregistered", FAIL)
    assert sim.cdac.view()["sms"] == []


def test_a_number_outside_india_is_refused_before_cdac(cdac_config, sim):
    error = run(cdac_config, outgoing(recipient="+447700900123"))
    assert (error.kind.name, error.kind.action) == ("cdac_not_indian_number", FAIL)
    assert sim.cdac.view()["sms"] == []


# The send table: every documented answer code, as MSDG answers it, and the kind tikabot names.
SEND_TABLE = [
    (401, "cdac_credentials", ACCOUNT), (403, "cdac_credits_exhausted", ACCOUNT),
    (406, "cdac_invalid_number", FAIL), (409, "cdac_smsc_timeout", RETRY),
    (412, "cdac_sender_not_approved", ACCOUNT), (413, "cdac_suspected_spam", FAIL),
    (414, "cdac_rejected_by_operator", FAIL), (415, "cdac_secure_key_missing", ACCOUNT),
    (416, "cdac_hash_mismatch", ACCOUNT), (417, "cdac_otp_too_many_numbers", FAIL),
    (418, "cdac_daily_limit", ACCOUNT), (422, "cdac_entity_id_invalid", FAIL),
    (423, "cdac_template_refused", FAIL), (425, "cdac_secure_key_required", ACCOUNT),
]


def test_the_table_names_every_documented_code():
    assert sorted(CDAC_ERRORS) == [code for code, _, _ in SEND_TABLE]


@pytest.mark.parametrize("code,name,action", SEND_TABLE, ids=[str(c) for c, _, _ in SEND_TABLE])
def test_each_answer_code_is_its_named_kind(cdac_config, sim, code, name, action):
    sim.configure(cdac_next_faults=[str(code)])
    error = run(cdac_config, outgoing())
    assert (error.kind.name, error.kind.action, error.code) == (name, action, str(code))
    assert sim.cdac.view()["sms"] == []


@pytest.mark.parametrize("fault,name,action", [
    ("500", "provider_error", UNKNOWN), ("timeout", "timeout", UNKNOWN), ("lost", "timeout", UNKNOWN)])
def test_server_errors_and_timeouts_leave_the_outcome_unknown(cdac_config, sim, fault, name, action):
    sim.configure(cdac_next_faults=[fault])
    error = run(cdac_config, outgoing())
    assert (error.kind.name, error.kind.action) == (name, action)
    assert len(sim.cdac.view()["sms"]) == (1 if fault == "lost" else 0)  # "lost": sent, answer never came


def test_wrong_secure_key_and_wrong_password_are_what_msdg_says(cdac_config, sim):
    assert run(dataclasses.replace(cdac_config, cdac_secure_key="not-the-key"), outgoing()).kind.name == \
        "cdac_hash_mismatch"
    assert run(dataclasses.replace(cdac_config, cdac_password="guess"), outgoing()).kind.name == "cdac_credentials"


def test_an_unreachable_msdg_is_retryable_not_unknown(cdac_config, sim):
    error = run(dataclasses.replace(cdac_config, cdac_api_url="http://127.0.0.1:9/esms/sendsmsrequestDLT"),
                outgoing())
    assert (error.kind.name, error.kind.action) == ("provider_unreachable", RETRY)


@pytest.mark.parametrize("text,code,msg_id", [
    ("402,MsgID = 150620161466003974245msdgsms", 402, "150620161466003974245msdgsms"),
    ("402,MsgID = 150620161466003974245msdgsms\r\n", 402, "150620161466003974245msdgsms"),
    ("ERROR : 401,Credentials Error", 401, None), ("403,Credits not available", 403, None),
    ("<html>busy</html>", None, None)])
def test_answers_are_read_as_msdg_writes_them(text, code, msg_id):
    answer = parse_answer(text)
    assert (answer.code, answer.msg_id) == (code, msg_id)


def test_unknown_codes_fail_with_their_number_named():
    assert (classify(499).name, classify(499).action) == ("cdac_499", FAIL)


PULL_ENV = {"CDAC_USERNAME": "wbhealth", "CDAC_PASSWORD": "pw", "CDAC_SECURE_KEY": "key",
            "CDAC_PULL_TOKEN": "t" * 40, "CDAC_PULL_SOURCES": "164.100.14.211, 164.100.15.0/24",
            "TIKABOT_TRUSTED_PROXIES": "10.0.0.2", "CDAC_KEYWORD": "WB TIKA"}


def config_from(monkeypatch, env):
    from tikabot.config import Config
    for name in (*PULL_ENV, "CDAC_TRUSTED_PROXIES"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Config.from_env(dotenv=False)


def test_cdac_settings_are_read_with_networks_and_secrets_stay_out_of_repr(monkeypatch):
    config = config_from(monkeypatch, PULL_ENV)
    assert config.cdac_pull_sources == ("164.100.14.211/32", "164.100.15.0/24")
    assert config.trusted_proxies == ("10.0.0.2/32",)
    assert "t" * 40 not in repr(config) and "cdac_secure_key='<redacted>'" in repr(config)


def test_one_list_of_trusted_proxies_this_machine_by_default_and_the_older_name_still_read(monkeypatch):
    without = {k: v for k, v in PULL_ENV.items() if k != "TIKABOT_TRUSTED_PROXIES"}
    assert config_from(monkeypatch, without).trusted_proxies == ("127.0.0.1/32", "::1/128")  # nginx beside it
    older = config_from(monkeypatch, {**without, "CDAC_TRUSTED_PROXIES": "10.0.0.2"})
    assert older.trusted_proxies == ("10.0.0.2/32",)  # a deployment set up before the rename keeps its proxy
    both = config_from(monkeypatch, {**PULL_ENV, "CDAC_TRUSTED_PROXIES": "10.0.0.2/32"})
    assert both.trusted_proxies == ("10.0.0.2/32",)  # the same proxies under both names: no conflict


@pytest.mark.parametrize("change,says", [
    ({"CDAC_SECURE_KEY": ""}, "missing: CDAC_SECURE_KEY"),
    ({"CDAC_PULL_TOKEN": "short"}, "CDAC_PULL_TOKEN must be a random secret of at least 32"),
    ({"CDAC_PULL_SOURCES": ""}, "CDAC_PULL_SOURCES must name MSDG's address"),
    ({"CDAC_PULL_SOURCES": "msdg.gov.in"}, "CDAC_PULL_SOURCES: 'msdg.gov.in' is not an IP address"),
    ({"TIKABOT_TRUSTED_PROXIES": "10.0.0.300"}, "TIKABOT_TRUSTED_PROXIES: '10.0.0.300' is not an IP address"),
    ({"CDAC_TRUSTED_PROXIES": "10.0.0.3"}, "TIKABOT_TRUSTED_PROXIES and CDAC_TRUSTED_PROXIES name different proxies"),
    ({"CDAC_KEYWORD": ""}, "CDAC_KEYWORD must be the state's keyword"),
    ({"CDAC_USERNAME": "", "CDAC_PASSWORD": "", "CDAC_SECURE_KEY": ""}, "answered by push"),
], ids=["push without key", "short token", "no sources", "source not an address", "bad proxy", "two proxy lists",
        "no keyword", "pull without push"])
def test_a_bad_combination_is_a_clear_error_at_start(monkeypatch, change, says):
    with pytest.raises(ValueError, match=re.escape(says)):
        config_from(monkeypatch, {k: v for k, v in {**PULL_ENV, **change}.items() if v})
