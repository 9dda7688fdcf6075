"""Every webhook, signed or authenticated as its provider does, with what no database or encoder can
hold (a NUL, a lone surrogate, 20,000 levels of nesting, a 5,000-digit number): each gets a clear
answer below 500, on SQLite and on PostgreSQL alike, and nothing kept holds a NUL."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from tests.support.apps import GATEWAY_KEY as KEY, built_app, every_channel
from tests.support.credentials import EXOTEL_CALLBACK_TOKEN as EXOTEL_TOKEN
from tests.support.signing import smsgate_headers, twilio_post
from tikabot.store.models import InboundMessage

HUGE = "9" * 5000
DEEP = "[" * 20000 + "]" * 20000
NUL, LONE = "\x00", "\ud800"


@pytest.fixture
def app(config, tmp_path):
    with built_app(config, **every_channel(tmp_path)) as flask_app:
        yield flask_app


def twilio(client, path: str, params: dict, query: str = ""):
    return twilio_post(client, path + (f"?{query}" if query else ""), params)


def smsgate(client, body: bytes | str, stamp: str | None = None):
    body = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    return client.post("/channels/smsgate", data=body, headers=smsgate_headers(body, KEY, stamp=stamp))


def smsgate_signed_as(client, signature: str):
    """A fresh X-Timestamp with an X-Signature the sender chose (not the body's)."""
    headers = {**smsgate_headers(received().encode(), KEY), "X-Signature": signature}
    return client.post("/channels/smsgate", data=received().encode(), headers=headers)


def received(**payload) -> str:
    base = {"message": "HELP", "phoneNumber": "+919830000003", "receivedAt": "2024-06-01T10:00:00.000+05:30"}
    return json.dumps({"event": "sms:received", "payload": {**base, **payload}})


def report(event: str, **payload) -> str:
    return json.dumps({"event": event, "payload": {"messageId": "tb-1-1", **payload}})


INBOUND = {"MessageSid": "SM" + "a" * 32, "From": "+919830000001", "To": "+15005550006", "Body": "HELP"}
STATUS = {"MessageSid": "SM" + "b" * 32, "MessageStatus": "undelivered", "ErrorCode": "30003"}
EXOTEL_IN = {"SmsSid": "exo-1", "From": "09830000004", "To": "08030000000", "Body": "HELP"}
EXOTEL_STATUS = {"SmsSid": "exo-2", "Status": "failed", "DetailedStatusCode": "30003"}
USSD = {"sessionId": "ATUid_1", "serviceCode": "*384*1234#", "phoneNumber": "+919830000001", "text": ""}

CASES = {
    "smsgate: 5,000-digit X-Timestamp": lambda c: smsgate(c, received(), stamp=HUGE),
    "smsgate: lone surrogate in the text": lambda c: smsgate(c, received(message="DOSE " + LONE)),
    "smsgate: lone surrogate in the sender": lambda c: smsgate(c, received(phoneNumber="+9198" + LONE)),
    "smsgate: lone surrogate in the event": lambda c: smsgate(c, json.dumps({"event": LONE, "payload": {}})),
    "smsgate: X-Signature that is not ASCII": lambda c: smsgate_signed_as(c, "\u00e9" * 64),
    "smsgate: NUL in the sender": lambda c: smsgate(c, received(phoneNumber="+9198300" + NUL)),
    "smsgate: 20,000 levels of nesting": lambda c: smsgate(c, '{"event": "sms:received", "payload": ' + DEEP + "}"),
    "smsgate: nesting as the whole body": lambda c: smsgate(c, DEEP),
    "smsgate: NUL in a status report's id": lambda c: smsgate(c, report("sms:delivered", messageId="tb-1" + NUL)),
    "smsgate: lone surrogate in a failure reason": lambda c: smsgate(c, report("sms:failed", reason=LONE)),
    "smsgate: huge number as the id": lambda c: smsgate(c, report("sms:sent", messageId="tb-" + "9" * 30 + "-1")),
    "sms: NUL in From": lambda c: twilio(c, "/sms/inbound", {**INBOUND, "From": "+9198" + NUL}),
    "sms: NUL in MessageSid": lambda c: twilio(c, "/sms/inbound", {**INBOUND, "MessageSid": "SM" + NUL}),
    "sms: NUL in Body": lambda c: twilio(c, "/sms/inbound", {**INBOUND, "Body": "DOSE" + NUL}),
    "sms: 5,000-digit From": lambda c: twilio(c, "/sms/inbound", {**INBOUND, "From": "+" + HUGE[:30]}),
    "status: NUL in MessageSid": lambda c: twilio(c, "/sms/status", {**STATUS, "MessageSid": "SM" + NUL}),
    "status: 5,000-digit ErrorCode": lambda c: twilio(c, "/sms/status", {**STATUS, "ErrorCode": HUGE}),
    "status: 5,000-digit id in the URL": lambda c: twilio(c, "/sms/status", STATUS, query=f"id={HUGE}&attempt=1"),
    "exotel: NUL in From": lambda c: c.post(f"/channels/exotel/inbound?token={EXOTEL_TOKEN}",
                                            data={**EXOTEL_IN, "From": "0983" + NUL}),
    "exotel: NUL in SmsSid": lambda c: c.post(f"/channels/exotel/inbound?token={EXOTEL_TOKEN}",
                                              data={**EXOTEL_IN, "SmsSid": "exo" + NUL}),
    "exotel: NUL in a status SmsSid": lambda c: c.post(f"/channels/exotel/status?token={EXOTEL_TOKEN}",
                                                       data={**EXOTEL_STATUS, "SmsSid": "exo" + NUL}),
    "exotel: 5,000-digit status code": lambda c: c.post(f"/channels/exotel/status?token={EXOTEL_TOKEN}",
                                                        data={**EXOTEL_STATUS, "DetailedStatusCode": HUGE}),
    "exotel: NUL in the token": lambda c: c.post("/channels/exotel/inbound?token=a%00b", data=EXOTEL_IN),
    "ussd: NUL in the text": lambda c: c.post("/ussd?token=test-ussd-token", data={**USSD, "text": "1*" + NUL}),
    "ussd: NUL in the session id": lambda c: c.post("/ussd?token=test-ussd-token",
                                                    data={**USSD, "sessionId": "AT" + NUL}),
    "ussd: 5,000-digit phone": lambda c: c.post("/ussd?token=test-ussd-token", data={**USSD, "phoneNumber": HUGE}),
    "ussd: NUL in the token": lambda c: c.post("/ussd?token=a%00b", data=USSD),
}


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_input_gets_a_clear_answer_not_a_server_error(app, case):
    client = app.test_client()
    answer = CASES[case](client)
    assert answer.status_code < 500, answer.get_data(as_text=True)[:300]
    services = app.extensions["tikabot"]
    with services.sessions() as s:
        for row in s.scalars(select(InboundMessage)):
            assert NUL not in row.provider_id + row.sender + row.body
