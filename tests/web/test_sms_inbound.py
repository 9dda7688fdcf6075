"""POST /sms/inbound: one table of real-shaped Twilio payloads, signed with Twilio's own algorithm."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from tests.support.worlds.inbox import EMPTY_TWIML, reply_to, settle
from tests.support.worlds.small_district import hashed
from tikabot.store.models import Appointment, Beneficiary, Dose, InboundMessage, OutboundMessage, Site, Staff

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "twilio_inbound"
TOKEN = "test-auth-token-0123456789abcdef"  # conftest's TEST_AUTH_TOKEN
PUBLIC = "https://tikabot.example.org"


def payload(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def sign(url: str, params: dict, token: str = TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


@pytest.fixture
def site_world(app):
    services = app.extensions["tikabot"]
    with services.transaction() as s:
        site = Site(code="KAL", name="Kalyani PHC")
        s.add(site)
        s.flush()
        s.add_all([Staff(phone="+919830000001", name="Mita Roy", role="vaccinator", site_id=site.id, language="en"),
                   Staff(phone="+919830000002", name="Sima Paul", role="vaccinator", site_id=site.id, language="bn")])
        ben = Beneficiary(ref="12345678", name="Rahima Khatun", phone="+919830011111", language="bn", site_id=site.id)
        s.add(ben)
        s.flush()
        s.add(Appointment(beneficiary_id=ben.id, site_id=site.id, dose_number=1, date=date(2099, 1, 5),
                          slot="09:00-11:00", security_code_hash=hashed(ben.id, "4321")))
    return services


def counts(services) -> tuple[int, int]:
    with services.transaction() as s:
        return (s.scalar(select(func.count()).select_from(InboundMessage)),
                s.scalar(select(func.count()).select_from(Dose)))


# name, fixture, how it is signed, query string, status, text in the reply (2xx) or the refusal, (inbound rows,
# doses) after: the webhook answers an empty <Response/> once the message is kept, the reply goes out after
CASES = [
    ("valid dose", "staff_dose", "public", "", 200, "Recorded: 12345678 Rahima, dose 1, COVISHIELD lot 4120Z025",
     (1, 1)),
    ("bengali body", "staff_dose_bengali", "public", "", 200, "12345678", (1, 1)),
    ("beneficiary yes in bengali", "beneficiary_yes", "public", "", 200, "৫ জানুয়ারি, সকাল ৯টা–১১টা", (1, 0)),
    ("unknown sender", "unknown_sender", "public", "", 200, "You have no upcoming appointment", (1, 0)),
    ("mms without body gets help", "mms_without_body", "public", "", 200, "", (1, 0)),
    ("behind a proxy with a query", "staff_dose", "public", "site=kal&b=2", 200, "Recorded:", (1, 1)),
    ("mis-signed", "staff_dose", "wrong-token", "", 403, "X-Twilio-Signature", (0, 0)),
    ("signed over the internal URL", "staff_dose", "internal", "", 403, "X-Twilio-Signature", (0, 0)),
    ("signed over http", "staff_dose", "http", "", 403, "X-Twilio-Signature", (0, 0)),
    ("missing signature", "staff_dose", "none", "", 403, "X-Twilio-Signature", (0, 0)),
    ("field added after signing", "staff_dose", "tampered", "", 403, "X-Twilio-Signature", (0, 0)),
    ("missing From", "missing_from", "public", "", 400, "missing field: From", (0, 0)),
    ("missing MessageSid", "missing_sid", "public", "", 400, "missing field: MessageSid", (0, 0)),
]


@pytest.mark.parametrize("name, fixture, signing, query, status, text, after", CASES, ids=[c[0] for c in CASES])
def test_inbound_table(client, site_world, name, fixture, signing, query, status, text, after):
    params = payload(fixture)
    path = "/sms/inbound" + (f"?{query}" if query else "")
    headers = {}
    signed_url = {"public": PUBLIC + path, "wrong-token": PUBLIC + path, "internal": "http://localhost" + path,
                  "http": "http://tikabot.example.org" + path, "tampered": PUBLIC + path}.get(signing)
    if signed_url:
        headers["X-Twilio-Signature"] = sign(signed_url, params, "wrong" if signing == "wrong-token" else TOKEN)
    if signing == "tampered":
        params = {**params, "Body": "DOSE 87654321"}
    response = client.post(path, data=params, headers=headers)
    assert response.status_code == status
    if status == 200:
        assert response.mimetype == "application/xml"
        assert response.get_data(as_text=True) == EMPTY_TWIML
        reply = reply_to(site_world, params["MessageSid"])
        assert reply and text in reply
    else:
        assert text in response.get_data(as_text=True)
    assert counts(site_world) == after


def test_replayed_message_sid_gets_the_same_reply_and_no_second_effect(client, site_world):
    params = payload("staff_dose")
    headers = {"X-Twilio-Signature": sign(PUBLIC + "/sms/inbound", params)}
    first = client.post("/sms/inbound", data=params, headers=headers)
    settle(site_world)
    again = client.post("/sms/inbound", data=params, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.get_data() == first.get_data()
    assert settle(site_world) == 0  # nothing new to process
    assert counts(site_world) == (1, 1)
    with site_world.transaction() as s:  # one reply
        assert s.scalar(select(func.count()).select_from(OutboundMessage).where(OutboundMessage.priority == "reply")) == 1


def test_oversized_request_is_refused_cleanly(client, site_world):
    params = {**payload("staff_dose"), "Body": "x" * 70_000}
    response = client.post("/sms/inbound", data=params,
                           headers={"X-Twilio-Signature": sign(PUBLIC + "/sms/inbound", params)})
    assert response.status_code == 413
    assert response.get_data(as_text=True) == "request too large\n"
    assert counts(site_world) == (0, 0)


@pytest.mark.parametrize("field, value, said", [("Body", "DOSE " + "9" * 1600, "Body longer than 1600"),
                                                ("MessageSid", "SM" + "a" * 70, "MessageSid longer than 64"),
                                                ("From", "x" * 41, "From longer than 40")])
def test_fields_longer_than_twilio_sends_are_a_clear_error(client, site_world, field, value, said):
    params = {**payload("staff_dose"), field: value}
    response = client.post("/sms/inbound", data=params,
                           headers={"X-Twilio-Signature": sign(PUBLIC + "/sms/inbound", params)})
    assert response.status_code == 400
    assert said in response.get_data(as_text=True)
    assert counts(site_world) == (0, 0)


def test_every_answer_is_an_empty_response_and_the_loop_guard_withholds_the_sixth_reply(client, site_world):
    params = payload("unknown_sender")
    answers, replies = [], []
    for i in range(6):
        p = {**params, "MessageSid": f"SM{i:032d}"}
        answers.append(client.post("/sms/inbound", data=p,
                                   headers={"X-Twilio-Signature": sign(PUBLIC + "/sms/inbound", p)}).get_data(as_text=True))
        replies.append(reply_to(site_world, p["MessageSid"]))
    assert answers == [EMPTY_TWIML] * 6
    assert all(replies[:5]) and replies[5] is None


@pytest.mark.parametrize("reply", [None, "", "Recorded: 12345678 dose 1. Today: 3",
                                   "টিকা <নথিভুক্ত> & \"ঠিক\" 'আছে'", "खुराक दर्ज > 2"])
def test_twiml_is_what_twilio_messaging_response_renders(reply):
    from twilio.twiml.messaging_response import MessagingResponse

    from tikabot.handlers.twilio_inbound import twiml

    expected = MessagingResponse()
    if reply:
        expected.message(reply)
    assert twiml(reply) == str(expected)
