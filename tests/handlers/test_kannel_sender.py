"""The Kannel sender: the exact sendsms request (UTF-16BE with coding=2, the dlr-url with our id and
attempt, dlr-mask 27, DLT ids as meta-data), one table of answers and reports, and a Kannel that is
not running: a clear, retryable error with the message kept. The same against a real Kannel:
test_kannel_real.py."""
from __future__ import annotations

import asyncio
import dataclasses
from urllib.parse import unquote_to_bytes

import pytest
from sqlalchemy import select

from tests.support.credentials import KANNEL_CALLBACK_TOKEN
from tests.support.pipeline import running_pipeline
from tikabot.core.sending import ACCOUNT, FAIL, RETRY, UNKNOWN, Outgoing, SendError
from tikabot.dlt.records import DltRecord
from tikabot.handlers.kannel import KANNEL_ERRORS, KannelSender, classify, parse_report, sendsms_query
from tikabot.outbox.messages import add_message
from tikabot.store.models import OutboundMessage

PHONE = "+919830012345"
BODY = "নথিভুক্ত: 12345678 রহিমা, ডোজ ১।"
NOWHERE = "http://127.0.0.1:9/cgi-bin/sendsms"  # the discard port: nothing listens


@pytest.fixture
def kannel_config(config):
    return dataclasses.replace(config, kannel_sendsms_url=NOWHERE, kannel_username="tikabot",
                               kannel_password="s3cret", kannel_from="WBHLTH",
                               kannel_callback_token=KANNEL_CALLBACK_TOKEN, kannel_timeout=2.0)


def outgoing(body=BODY, dlt=None, message_id=11, attempt=2) -> Outgoing:
    return Outgoing(id=message_id, attempt=attempt, channel="sms", recipient=PHONE, body=body, language="bn",
                    priority="reply", expires_at=None, dlt=dlt)


def sent(query: str) -> dict[str, bytes]:
    """The query as smsbox reads it: each value's bytes."""
    return {key: unquote_to_bytes(value) for key, value in (part.split("=", 1) for part in query.split("&"))}


def test_bengali_goes_as_utf16be_with_coding_2_and_a_report_url(kannel_config):
    query = sent(sendsms_query(kannel_config, outgoing()))
    assert query["text"] == BODY.encode("utf-16-be")
    assert {k: v.decode() for k, v in query.items() if k != "text"} == {
        "username": "tikabot", "password": "s3cret", "from": "WBHLTH", "to": "919830012345", "coding": "2",
        "charset": "UTF-16BE", "dlr-mask": "27",
        "dlr-url": f"https://tikabot.example.org/channels/kannel/dlr?token={KANNEL_CALLBACK_TOKEN}&id=11&attempt=2"
                   "&status=%d&answer=%A"}


def test_plain_english_goes_as_utf8_with_coding_0(kannel_config):
    query = sent(sendsms_query(kannel_config, outgoing(body="Recorded: 12345678, dose 1 £")))
    assert (query["text"].decode("utf-8"), query["coding"], query["charset"]) == (
        "Recorded: 12345678, dose 1 £", b"0", b"UTF-8")


def test_dlt_ids_ride_as_smpp_meta_data_and_the_header_as_sender(kannel_config):
    dlt = DltRecord(entity_id="1201160000000012345", template_id="1207160000000067890", header="WBHLTG",
                    sms_type="transactional")
    query = sent(sendsms_query(kannel_config, outgoing(dlt=dlt)))
    assert query["from"] == b"WBHLTG"
    assert query["meta-data"] == b"?smpp?PE_ID=1201160000000012345&TEMPLATE_ID=1207160000000067890"


def test_no_report_url_without_a_public_address(kannel_config):
    query = sent(sendsms_query(dataclasses.replace(kannel_config, public_base_url=None), outgoing()))
    assert "dlr-url" not in query and "dlr-mask" not in query


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


def test_a_kannel_that_is_not_running_is_a_clear_retryable_error(kannel_config):
    error = run(kannel_config, outgoing())
    assert (error.kind.name, error.kind.action, error.code) == ("kannel_unreachable", RETRY, "refused")
    assert "smsbox at http://127.0.0.1:9/cgi-bin/sendsms is not answering" in str(error)


def test_not_configured_is_a_slow_retry(config):
    error = run(config, outgoing())
    assert (error.kind.name, error.kind.action, error.kind.slow) == ("kannel_not_configured", RETRY, True)


def test_with_kannel_down_the_message_waits_in_the_outbox(kannel_config):
    config = dataclasses.replace(kannel_config, routes="default=kannel")
    with running_pipeline(config) as pipeline:
        with pipeline.services.transaction() as s:
            message_id = add_message(s, key="k1", recipient=PHONE, template="otp.code",
                                     params={"code": "482913", "minutes": 10}, language="bn").id
        pipeline.drain()
        with pipeline.services.sessions() as s:
            row = s.scalar(select(OutboundMessage).where(OutboundMessage.id == message_id))
            assert (row.status, row.last_error_code, row.attempts) == ("pending", "refused", 1)
            assert row.not_before is not None  # tried again after a back-off


@pytest.mark.parametrize("key, name, action", [
    ("http:400", "kannel_bad_request", FAIL), ("http:403", "kannel_auth_failed", ACCOUNT),
    ("http:503", "kannel_busy", RETRY), ("http:500", "provider_error", UNKNOWN), ("http:502", "provider_error", UNKNOWN),
    ("dlr:2", "not_delivered_to_phone", RETRY), ("dlr:16", "smsc_rejected", FAIL), ("http:418", "kannel_http_418", FAIL)])
def test_every_answer_has_one_kind(key, name, action):
    assert (classify(key).name, classify(key).action) == (name, action)
    assert set(KANNEL_ERRORS) <= {"http:400", "http:403", "http:404", "http:500", "http:503", "dlr:2", "dlr:16",
                                  "unreachable"}


@pytest.mark.parametrize("value, status, kind", [("1", "delivered", None), ("8", "sent", None), ("4", "sent", None),
                                                 ("2", "undelivered", "not_delivered_to_phone"),
                                                 ("16", "undelivered", "smsc_rejected")])
def test_reports_are_read(value, status, kind):
    report = parse_report({"id": "11", "attempt": "2", "status": value, "answer": "ACK/"})
    assert (report.provider_id, report.status, report.message_id, report.attempt, report.via) == (
        "kannel-11-2", status, 11, 2, "kannel")
    assert (report.kind.name if report.kind else None) == kind
