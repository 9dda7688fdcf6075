"""POST /channels/smsgate: real SMS Gateway for Android webhooks (tests/fixtures/smsgate/), signed as the
app signs them, through the shared channel table runner."""
from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import select

from tests.support.apps import built_app
from tests.support.channel_cases import Case, Parsed, fixture_json, params, run_case, smsgate_request, smsgate_signed
from tests.support.signing import smsgate_headers
from tikabot.config import GatewayPhone
from tikabot.handlers import android_devices
from tikabot.core import handoffs
from tikabot.outbox.messages import add_message
from tikabot.store.models import InboundMessage, OutboundMessage

KEY = "phone-signing-key-ranaghat"
OTHER_KEY = "phone-signing-key-kalyani"
PHONES = (GatewayPhone(id="ranaghat", url="http://10.0.0.7:8080", username="sms", password="pw", signing_key=KEY),
          GatewayPhone(id="kalyani", url="http://10.0.0.8:8080", username="sms", password="pw", signing_key=OTHER_KEY))


@pytest.fixture
def app(config):
    with built_app(config, smsgate_phones=PHONES) as flask_app:
        yield flask_app


def body_of(name: str, message_id: int | None = None) -> bytes:
    text = json.dumps(fixture_json("smsgate", name), ensure_ascii=False)
    if message_id is not None:
        text = text.replace("MSGID", str(message_id))
    return text.encode()


def signed(body: bytes, key: str = KEY, at: float | None = None) -> dict:
    return smsgate_headers(body, key, at)


def inbound_rows(services) -> list[InboundMessage]:
    with services.sessions() as s:
        return list(s.scalars(select(InboundMessage)))


def outbound(services, status="accepted", via="android:ranaghat", key="r1") -> int:
    """An SMS that phone ranaghat took (as the send job records it: via names the phone)."""
    with services.transaction() as s:
        row = add_message(s, key=key, recipient="+919830012345", template="otp.code",
                          params={"code": "482913", "minutes": 10}, language="en", channel="sms")
        row.attempts = 1
        row.status = status
        row.via = via
        row.provider_id = f"tb-{row.id}-1"
        return row.id


def in_flight(services, via: str, key="f1") -> int:
    """An SMS whose first attempt was handed to `via` and whose answer we have not recorded yet."""
    with services.transaction() as s:
        row = add_message(s, key=key, recipient="+919830012345", template="otp.code",
                          params={"code": "482913", "minutes": 10}, language="en", channel="sms")
        row.attempts, row.status = 1, "sending"
        message_id = row.id
    handoffs.note(services.redis, message_id, 1, via)
    return message_id


SIGNED = smsgate_signed(KEY)
REFUSED = "invalid or stale X-Signature / X-Timestamp\n"
RECEIVED = smsgate_request(fixture_json("smsgate", "received"))
HELP = Parsed("+919830011111", "HELP", "sms", "android:ranaghat", "sg-f17eefdfd343d85c02aa10f28dfa818a9c2a4fcc")
# the message id is the phone's, the sender, the time received and the text together: the same SMS
# told by another phone is another message
HELP_ON_KALYANI = Parsed("+919830011111", "HELP", "sms", "android:kalyani", "sg-70267e1ab75cdd9a83b0f6445b06e60ecbe77d9b")
YES_IN_BENGALI = Parsed("+919830011111", "হ্যাঁ", "sms", "android:ranaghat",
                        "sg-96bf121f34ca5846eb678c107708ae1e5f099aeb")

INBOUND = [
    Case("received", RECEIVED, SIGNED, 200, "ok\n", HELP),
    Case("bengali text, null simNumber, 0-prefixed number", smsgate_request(fixture_json("smsgate", "received_bengali")),
         SIGNED, 200, "ok\n", YES_IN_BENGALI),
    Case("the other phone's key names the other phone", RECEIVED, smsgate_signed(OTHER_KEY), 200, "ok\n",
         HELP_ON_KALYANI),
    Case("mis-signed", RECEIVED, smsgate_signed("not-the-key"), 403, REFUSED, None),
    Case("stale timestamp", RECEIVED, smsgate_signed(KEY, at_offset=-400), 403, REFUSED, None),
    Case("timestamp from the future", RECEIVED, smsgate_signed(KEY, at_offset=400), 403, REFUSED, None),
    Case("no signature", RECEIVED, None, 403, REFUSED, None),
    Case("body changed after signing", RECEIVED, SIGNED, 403, REFUSED, None,
         tamper=lambda r: r.replace(body=r.body.replace(b"HELP", b"STOP"))),
    Case("no sender", smsgate_request(fixture_json("smsgate", "received_no_sender")), SIGNED, 400,
         "missing sender\n", None),
    Case("signed, but not JSON", smsgate_request(b"{not json"), SIGNED, 400, "body is not JSON\n", None),
    Case("JSON without an event", smsgate_request({"payload": {"message": "HELP"}}), SIGNED, 400, "no event\n", None),
    Case("an SMS event without its payload", smsgate_request({"event": "sms:received"}), SIGNED, 400, "no payload\n",
         None),
    Case("ping records nothing", smsgate_request(fixture_json("smsgate", "ping")), SIGNED, 204, "", None),
]


@pytest.mark.parametrize("case", params(INBOUND))
def test_webhook_table(client, app, case):
    services = app.extensions["tikabot"]
    run_case(client, case)
    health = {h.id: h for h in android_devices.phone_health(services.redis, ["ranaghat", "kalyani"], time.time(), 900)}
    heard = case.status < 300  # an accepted webhook proves the phone is alive; a refused one proves nothing
    assert (health["ranaghat"].seen_at is not None or health["kalyani"].seen_at is not None) == heard


def test_bengali_text_is_kept_as_sent(client, app):
    body = body_of("received_bengali")
    assert client.post("/channels/smsgate", data=body, headers=signed(body)).status_code == 200
    [row] = inbound_rows(app.extensions["tikabot"])
    assert row.body == "হ্যাঁ"


def test_replayed_webhook_is_recorded_once(client, app):
    """The app retries, and a captured request may be replayed inside the window: same content, one row."""
    body = body_of("received")
    headers = signed(body)
    assert client.post("/channels/smsgate", data=body, headers=headers).status_code == 200
    assert client.post("/channels/smsgate", data=body, headers=headers).status_code == 200
    assert len(inbound_rows(app.extensions["tikabot"])) == 1


def test_same_text_at_another_time_is_a_new_message(client, app):
    """messageId is content-based (the same for both): what makes them two is receivedAt."""
    first = body_of("received")
    second = first.replace(b"11:41:31", b"11:51:31")
    for body in (first, second):
        assert client.post("/channels/smsgate", data=body, headers=signed(body)).status_code == 200
    assert len(inbound_rows(app.extensions["tikabot"])) == 2


@pytest.mark.parametrize("events, final, code", [
    (["sent"], "sent", None),
    (["sent", "delivered"], "delivered", None),
    (["delivered", "sent"], "delivered", None),  # out of order: never backwards
    (["failed_fdn"], "failed", "RESULT_ERROR_FDN_CHECK_FAILURE"),
    (["failed_no_service"], "pending", "RESULT_ERROR_NO_SERVICE"),  # no signal: retried later
])
def test_delivery_reports_move_the_message(client, app, events, final, code):
    services = app.extensions["tikabot"]
    message_id = outbound(services)
    for event in events:
        body = body_of(event, message_id)
        assert client.post("/channels/smsgate", data=body, headers=signed(body)).status_code == 204
    with services.sessions() as s:
        row = s.get(OutboundMessage, message_id)
        assert row.status == final
        assert row.last_error_code == code


def test_mis_signed_delivery_report_changes_nothing(client, app):
    services = app.extensions["tikabot"]
    message_id = outbound(services)
    body = body_of("delivered", message_id)
    assert client.post("/channels/smsgate", data=body, headers=signed(body, "nope")).status_code == 403
    with services.sessions() as s:
        assert s.get(OutboundMessage, message_id).status == "accepted"


def test_no_signal_reports_take_the_phone_out_of_rotation_and_a_ping_brings_it_back(client, app):
    services = app.extensions["tikabot"]
    message_id = outbound(services)
    for _ in range(android_devices.FAILS_OUT):
        body = body_of("failed_no_service", message_id)
        client.post("/channels/smsgate", data=body, headers=signed(body))
    now = time.time()
    assert android_devices.healthy_phones(services.redis, ["ranaghat", "kalyani"], now, 900) == ["kalyani"]
    ping = body_of("ping")
    assert client.post("/channels/smsgate", data=ping, headers=signed(ping)).status_code == 204
    assert android_devices.healthy_phones(services.redis, ["ranaghat", "kalyani"], now, 900) == ["ranaghat", "kalyani"]


def test_one_phones_key_cannot_report_on_another_phones_message(client, app):
    """kalyani's key names ranaghat's message (its id is easy to guess): nothing changes."""
    services = app.extensions["tikabot"]
    message_id = outbound(services)
    body = body_of("delivered", message_id)
    assert client.post("/channels/smsgate", data=body, headers=signed(body, OTHER_KEY)).status_code == 204
    with services.sessions() as s:
        assert s.get(OutboundMessage, message_id).status == "accepted"
    assert client.post("/channels/smsgate", data=body, headers=signed(body)).status_code == 204
    with services.sessions() as s:
        assert s.get(OutboundMessage, message_id).status == "delivered"


@pytest.mark.parametrize("handed_to", ["twilio", "exotel", "android:kalyani"])
def test_a_phones_key_cannot_settle_an_attempt_it_was_not_handed(client, app, handed_to):
    """A message in flight on another route or phone, named by id and attempt: neither delivered
    (so never sent) nor failed by ranaghat's report."""
    services = app.extensions["tikabot"]
    message_id = in_flight(services, handed_to)
    for event in ("delivered", "failed_fdn"):
        body = body_of(event, message_id)
        assert client.post("/channels/smsgate", data=body, headers=signed(body)).status_code == 204
    with services.sessions() as s:
        row = s.get(OutboundMessage, message_id)
        assert (row.status, row.provider_id, row.last_error_code) == ("sending", None, None)


def test_the_phone_an_attempt_was_handed_to_settles_it_before_its_answer_is_recorded(client, app):
    services = app.extensions["tikabot"]
    message_id = in_flight(services, "android:ranaghat")
    body = body_of("delivered", message_id)
    assert client.post("/channels/smsgate", data=body, headers=signed(body)).status_code == 204
    with services.sessions() as s:
        row = s.get(OutboundMessage, message_id)
        assert (row.status, row.provider_id) == ("delivered", f"tb-{message_id}-1")
