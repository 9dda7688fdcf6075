"""Exotel's inbound SMS app and delivery callbacks: real-shaped requests, authenticated by the URL's token."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.support.apps import built_app
from tests.support.channel_cases import Case, Parsed, exotel_request, exotel_token, params, run_case
from tests.support.credentials import EXOTEL_CALLBACK_TOKEN as TOKEN
from tests.support.signing import basic_auth
from tikabot.core import handoffs
from tikabot.queue.routes import pause
from tikabot.outbox.messages import add_message
from tikabot.store.models import InboundMessage, OutboundMessage, Staff

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "exotel"


@pytest.fixture
def app(config):
    with built_app(config, exotel_account_sid="district", exotel_callback_token=TOKEN) as flask_app:
        yield flask_app


def fixture(name: str, **replace) -> dict:
    data = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return {k: (str(v).replace("SID", replace.get("sid", "SID")).replace("MSGID", str(replace.get("id", "")))
                if isinstance(v, str) else v) for k, v in data.items()}


def rows(services):
    with services.sessions() as s:
        return list(s.scalars(select(InboundMessage)))


INBOUND_SMS = fixture("inbound")
HELP = Parsed("+919830011111", "HELP", "sms", "exotel", INBOUND_SMS["SmsSid"])
REFUSED = "invalid or missing token\n"
WITH_TOKEN = exotel_token()

INBOUND = [
    Case("inbound GET, as Exotel's SMS app calls", exotel_request(INBOUND_SMS), WITH_TOKEN, 200, "", HELP),
    Case("inbound POST", exotel_request(INBOUND_SMS, "POST"), WITH_TOKEN, 200, "", HELP),
    Case("bengali text", exotel_request(fixture("inbound_bengali")), WITH_TOKEN, 200, "",
         Parsed("+919830011111", "হ্যাঁ", "sms", "exotel", fixture("inbound_bengali")["SmsSid"])),
    Case("wrong token", exotel_request(INBOUND_SMS), exotel_token("guess"), 403, REFUSED, None),
    Case("no token", exotel_request(INBOUND_SMS), None, 403, REFUSED, None),
    Case("token differs only in case", exotel_request(INBOUND_SMS), exotel_token(TOKEN.upper()), 403, REFUSED, None),
    Case("missing From", exotel_request({k: v for k, v in INBOUND_SMS.items() if k != "From"}), WITH_TOKEN, 400,
         "SmsSid and From are required\n", None),
    Case("missing SmsSid", exotel_request({k: v for k, v in INBOUND_SMS.items() if k != "SmsSid"}, "POST"),
         WITH_TOKEN, 400, "SmsSid and From are required\n", None),
    Case("JSON instead of Exotel's form", exotel_request(INBOUND_SMS, "POST").replace(
        form=None, body=json.dumps(INBOUND_SMS).encode(), headers={"Content-Type": "application/json"}),
         WITH_TOKEN, 400, "SmsSid and From are required\n", None),
]


@pytest.mark.parametrize("case", params(INBOUND))
def test_inbound_table(client, case):
    response = run_case(client, case)
    if case.status == 200:
        assert response.mimetype == "text/plain"  # and empty: Exotel would send any text as an SMS without DLT ids


def test_head_probe_is_answered_with_text_plain(client):
    response = client.head("/channels/exotel/inbound", query_string={"token": TOKEN})
    assert response.status_code == 200 and response.mimetype == "text/plain"


def test_replayed_inbound_is_recorded_once(client, app):
    params = {"token": TOKEN, **fixture("inbound")}
    assert client.get("/channels/exotel/inbound", query_string=params).status_code == 200
    assert client.get("/channels/exotel/inbound", query_string=params).status_code == 200
    assert len(rows(app.extensions["tikabot"])) == 1


def test_basic_auth_is_required_when_configured(config):
    from tikabot.app import create_app

    app = create_app(dataclasses.replace(config, exotel_account_sid="district", exotel_callback_token=TOKEN,
                                         exotel_callback_user="exotel", exotel_callback_password="s3cret"))
    client = app.test_client()
    query = {"token": TOKEN, **fixture("inbound")}
    assert client.get("/channels/exotel/inbound", query_string=query).status_code == 403
    good = basic_auth("exotel", "s3cret")
    assert client.get("/channels/exotel/inbound", query_string=query, headers=good).status_code == 200
    app.extensions["tikabot"].close()


@pytest.mark.parametrize("path", ["/channels/exotel/inbound", "/channels/exotel/voice-code", "/channels/exotel/status"])
def test_basic_auth_that_is_not_ascii_is_refused_not_a_server_error(config, path):
    changes = {"exotel_account_sid": "district", "exotel_callback_token": TOKEN,
               "exotel_callback_user": "exotel", "exotel_callback_password": "s3cret"}
    with built_app(config, **changes) as app:
        client = app.test_client()
        query = {"token": TOKEN, **fixture("inbound")}
        send = client.get if path.endswith("voice-code") else client.post
        answer = send(path, query_string=query, headers={"Authorization": "Basic \u00e9\u00e9"})
        assert answer.status_code == 403, answer.get_data(as_text=True)
        assert rows(app.extensions["tikabot"]) == []


def outbound(services, sid: str) -> int:
    with services.transaction() as s:
        row = add_message(s, key="e1", recipient="+919830012345", template="otp.code",
                          params={"code": "482913", "minutes": 10}, language="en", channel="exotel")
        row.attempts, row.status, row.provider_id = 1, "accepted", sid
        return row.id


# name, callbacks in order, final status, last error code
STATUS = [
    ("delivered to handset", ["status_delivered"], "delivered", None),
    ("delivered to operator only", ["status_operator"], "sent", None),
    ("operator then handset", ["status_operator", "status_delivered"], "delivered", None),
    ("handset then a late operator report", ["status_delivered", "status_operator"], "delivered", None),
    ("template does not match DLT: no retry", ["status_dlt_mismatch"], "failed", "23185"),
    ("subscriber unavailable: retried", ["status_subscriber_unavailable"], "pending", "23035"),
    ("failed_dnd without a code", ["status_dnd"], "failed", "23005"),
]


@pytest.mark.parametrize("name, callbacks, final, code", STATUS, ids=[c[0] for c in STATUS])
def test_status_callbacks(client, app, name, callbacks, final, code):
    services = app.extensions["tikabot"]
    sid = "f2a4c6e8b0d1f3a5c7e9b1d3f5a7c9e1"
    message_id = outbound(services, sid)
    for callback in callbacks:
        response = client.post("/channels/exotel/status", query_string={"token": TOKEN, "id": message_id, "attempt": 1},
                               data=fixture(callback, sid=sid, id=message_id))
        assert response.status_code == 204
    with services.sessions() as s:
        row = s.get(OutboundMessage, message_id)
        assert (row.status, row.last_error_code) == (final, code)


def test_status_callback_without_token_changes_nothing(client, app):
    services = app.extensions["tikabot"]
    sid = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"
    message_id = outbound(services, sid)
    response = client.post("/channels/exotel/status", query_string={"id": message_id, "attempt": 1},
                           data=fixture("status_delivered", sid=sid, id=message_id))
    assert response.status_code == 403
    with services.sessions() as s:
        assert s.get(OutboundMessage, message_id).status == "accepted"


def test_callback_for_a_send_whose_answer_was_lost_names_the_message(client, app):
    """The send timed out, so we never learnt the Sid: our id and attempt in the URL link the report."""
    services = app.extensions["tikabot"]
    with services.transaction() as s:
        row = add_message(s, key="e2", recipient="+919830012345", template="otp.code",
                          params={"code": "482913", "minutes": 10}, language="en", channel="exotel")
        row.attempts, row.status = 1, "sending"
        message_id = row.id
    handoffs.note(services.redis, message_id, 1, "exotel")  # as the send job does before calling Exotel
    sid = "0f0e0d0c0b0a09080706050403020100"
    client.post("/channels/exotel/status", query_string={"token": TOKEN, "id": message_id, "attempt": 1},
                data=fixture("status_delivered", sid=sid, id=message_id))
    with services.sessions() as s:
        row = s.get(OutboundMessage, message_id)
        assert (row.provider_id, row.status) == (sid, "delivered")


def test_call_flow_fetches_the_code_to_read_out(client):
    response = client.get("/channels/exotel/voice-code",
                          query_string={"token": TOKEN, "CallSid": "c1", "CustomField": "bn:4 8 2 9 1 3"})
    assert (response.status_code, response.mimetype) == (200, "text/plain")
    assert response.get_data(as_text=True).strip() == "4 8 2 9 1 3. 4 8 2 9 1 3."
    refused = client.get("/channels/exotel/voice-code", query_string={"CustomField": "bn:4 8 2 9 1 3"})
    assert refused.status_code == 403
    bad = client.get("/channels/exotel/voice-code", query_string={"token": TOKEN, "CustomField": "bn:<Say>"})
    assert bad.status_code == 400


ACCOUNT_ERROR = {"SmsSid": "SID", "To": "09830012345", "Status": "failed", "DetailedStatusCode": "401"}


def sms_row(services, key: str, *, status: str, attempts: int, via: str | None, sid: str | None = None) -> int:
    with services.transaction() as s:
        row = add_message(s, key=key, recipient="+919830012345", template="otp.code",
                          params={"code": "482913", "minutes": 10}, language="en", channel="sms")
        row.status, row.attempts, row.via, row.provider_id = status, attempts, via, sid
        return row.id


def exotel_report(client, message_id: int, attempt: int, form: dict, sid: str):
    data = {k: v.replace("SID", sid).replace("MSGID", str(message_id)) for k, v in form.items()}
    return client.post("/channels/exotel/status", query_string={"token": TOKEN, "id": message_id, "attempt": attempt},
                       data=data)


@pytest.mark.parametrize("form", [fixture("status_delivered"), ACCOUNT_ERROR], ids=["delivered", "account error"])
def test_exotel_token_cannot_touch_messages_on_twilio(client, app, form):
    """An OTP handed to Twilio (in flight, its answer not yet recorded) and one not sent yet, named by
    id and attempt with the Exotel token: neither settled, failed nor paused."""
    services = app.extensions["tikabot"]
    in_flight = sms_row(services, "t1", status="sending", attempts=1, via=None)
    handoffs.note(services.redis, in_flight, 1, "twilio")
    unsent = sms_row(services, "t2", status="pending", attempts=0, via="twilio")
    for message_id, attempt in ((in_flight, 1), (unsent, 0), (unsent, 1)):
        assert exotel_report(client, message_id, attempt, form, f"forged{message_id}{attempt}").status_code == 204
    with services.sessions() as s:
        assert [(r.status, r.provider_id, r.last_error_code) for r in
                (s.get(OutboundMessage, in_flight), s.get(OutboundMessage, unsent))] == \
            [("sending", None, None), ("pending", None, None)]
    from tikabot.core.clock import now

    assert pause.paused_until(services.redis, "twilio", now()) is None
    assert pause.paused_until(services.redis, "exotel", now()) is None


def test_exotel_token_cannot_settle_twilios_message_by_its_sid(client, app):
    services = app.extensions["tikabot"]
    sid = "SM" + "a" * 32
    message_id = sms_row(services, "t3", status="accepted", attempts=1, via="twilio", sid=sid)
    assert exotel_report(client, message_id, 1, fixture("status_delivered"), sid).status_code == 204
    with services.sessions() as s:
        assert s.get(OutboundMessage, message_id).status == "accepted"


def test_exotel_account_error_pauses_exotel_alone_and_the_alert_names_route_and_code(client, app):
    from tikabot.core.clock import now

    services = app.extensions["tikabot"]
    with services.transaction() as s:
        s.add(Staff(phone="+919830000001", name="Coordinator", role="coordinator", language="en",
                    telegram_user_id=4242))
    sid = "e" * 32
    message_id = sms_row(services, "x1", status="accepted", attempts=1, via="exotel", sid=sid)
    assert exotel_report(client, message_id, 1, ACCOUNT_ERROR, sid).status_code == 204
    assert pause.paused_until(services.redis, "exotel", now()) is not None
    assert pause.paused_until(services.redis, "twilio", now()) is None
    with services.sessions() as s:
        alerts = s.scalars(select(OutboundMessage).where(OutboundMessage.template == "alert.account_failure")).all()
        row = s.get(OutboundMessage, message_id)
    assert [(a.channel, a.recipient) for a in alerts] == [("telegram", "4242")]
    assert "exotel" in alerts[0].body and "401" in alerts[0].body and "None" not in alerts[0].body
    assert (row.status, row.last_error_code) == ("pending", "401")
