"""POST /sms/inbound: one table of real Twilio payloads (tests/fixtures/twilio_inbound/), signed with
Twilio's own algorithm, through the shared channel table runner."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from tests.support.channel_cases import Case, Parsed, fixture_json, run_case, twilio_request, twilio_signed
from tests.support.signing import twilio_post
from tests.support.worlds.inbox import EMPTY_TWIML, kalyani, reply_to, settle
from tests.support.worlds.small_district import hashed
from tikabot.store.models import Appointment, Beneficiary, Dose, InboundMessage, OutboundMessage


def payload(name: str) -> dict:
    return fixture_json("twilio_inbound", name)


@pytest.fixture
def site_world(app):
    services = app.extensions["tikabot"]
    site_id = kalyani(services, ("+919830000001", "Mita Roy", "en"), ("+919830000002", "Sima Paul", "bn"))
    with services.transaction() as s:
        ben = Beneficiary(ref="12345678", name="Rahima Khatun", phone="+919830011111", language="bn", site_id=site_id)
        s.add(ben)
        s.flush()
        s.add(Appointment(beneficiary_id=ben.id, site_id=site_id, dose_number=1, date=date(2099, 1, 5),
                          slot="09:00-11:00", security_code_hash=hashed(ben.id, "4321")))
    return services


def counts(services) -> tuple[int, int]:
    with services.transaction() as s:
        return (s.scalar(select(func.count()).select_from(InboundMessage)),
                s.scalar(select(func.count()).select_from(Dose)))


def sms(name: str, query: dict | None = None) -> tuple:
    """A fixture's request and the message the inbox keeps for it (the fixture's own fields)."""
    form = payload(name)
    kept = Parsed(form["From"], form.get("Body", ""), "sms", "twilio", form["MessageSid"])
    return twilio_request(form, query=query), kept


SIGNED = twilio_signed()
BAD_SIGNATURE = "invalid or missing X-Twilio-Signature"


def case(name, request_and_kept, sign=SIGNED, status=200, reply=EMPTY_TWIML, tamper=None) -> Case:
    request, kept = request_and_kept
    return Case(name, request, sign, status, reply, kept if status == 200 else None, tamper)


# each case, then (text in the reply the inbox worker sends after, (inbound rows, doses)): the webhook
# answers an empty <Response/> once the message is kept; the reply goes out after, through the outbox
CASES = [
    (case("valid dose", sms("staff_dose")), ("Recorded: 12345678 (Rahima), dose 1, COVISHIELD lot 4120Z025", (1, 1))),
    (case("bengali body", sms("staff_dose_bengali")), ("12345678", (1, 1))),
    (case("beneficiary yes in bengali", sms("beneficiary_yes")), ("৫ জানুয়ারি, সকাল ৯টা–১১টা", (1, 0))),
    (case("unknown sender", sms("unknown_sender")), ("You have no upcoming appointment", (1, 0))),
    (case("mms without body gets help", sms("mms_without_body")), ("", (1, 0))),
    (case("behind a proxy with a query", sms("staff_dose", query={"site": "kal", "b": "2"})), ("Recorded:", (1, 1))),
    (case("mis-signed", sms("staff_dose"), twilio_signed(token="wrong"), 403, BAD_SIGNATURE + "\n"), (None, (0, 0))),
    (case("signed over the internal URL", sms("staff_dose"), twilio_signed(base="http://localhost"), 403,
          BAD_SIGNATURE + "\n"), (None, (0, 0))),
    (case("signed over http", sms("staff_dose"), twilio_signed(base="http://tikabot.example.org"), 403,
          BAD_SIGNATURE + "\n"), (None, (0, 0))),
    (case("missing signature", sms("staff_dose"), None, 403, BAD_SIGNATURE + "\n"), (None, (0, 0))),
    (case("wrong signature header", sms("staff_dose"),
          lambda r: r.with_headers({"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}), 403, BAD_SIGNATURE + "\n"),
     (None, (0, 0))),
    (case("field added after signing", sms("staff_dose"), status=403, reply=BAD_SIGNATURE + "\n",
          tamper=lambda r: r.replace(form={**r.form, "Body": "DOSE 87654321"})), (None, (0, 0))),
    (Case("missing From", twilio_request(payload("missing_from")), SIGNED, 400, "missing field: From\n", None),
     (None, (0, 0))),
    (Case("missing MessageSid", twilio_request(payload("missing_sid")), SIGNED, 400, "missing field: MessageSid\n",
          None), (None, (0, 0))),
    (Case("JSON instead of Twilio's form", sms("staff_dose")[0].replace(
        form=None, body=b'{"MessageSid": "SM1", "From": "+919830000001", "Body": "COUNT"}',
        headers={"Content-Type": "application/json"}), SIGNED, 400, "missing field: MessageSid, From\n", None),
     (None, (0, 0))),
]


@pytest.mark.parametrize("case, after", [pytest.param(c, a, id=c.name) for c, a in CASES])
def test_inbound_table(client, site_world, case, after):
    run_case(client, case)
    text, rows_and_doses = after
    if text is not None:
        reply = reply_to(site_world, case.message.provider_id)
        assert reply and text in reply
    assert counts(site_world) == rows_and_doses


def test_replayed_message_sid_gets_the_same_reply_and_no_second_effect(client, site_world):
    params = payload("staff_dose")
    first = twilio_post(client, "/sms/inbound", params)
    settle(site_world)
    again = twilio_post(client, "/sms/inbound", params)
    assert first.status_code == again.status_code == 200
    assert again.get_data() == first.get_data()
    assert settle(site_world) == 0  # nothing new to process
    assert counts(site_world) == (1, 1)
    with site_world.transaction() as s:  # one reply
        assert s.scalar(select(func.count()).select_from(OutboundMessage).where(OutboundMessage.priority == "reply")) == 1


def test_oversized_request_is_refused_cleanly(client, site_world):
    params = {**payload("staff_dose"), "Body": "x" * 70_000}
    response = twilio_post(client, "/sms/inbound", params)
    assert response.status_code == 413
    assert response.get_data(as_text=True) == "request too large\n"
    assert counts(site_world) == (0, 0)


@pytest.mark.parametrize("field, value, said", [("Body", "DOSE " + "9" * 1600, "Body longer than 1600"),
                                                ("MessageSid", "SM" + "a" * 70, "MessageSid longer than 64"),
                                                ("From", "x" * 41, "From longer than 40")])
def test_fields_longer_than_twilio_sends_are_a_clear_error(client, site_world, field, value, said):
    params = {**payload("staff_dose"), field: value}
    response = twilio_post(client, "/sms/inbound", params)
    assert response.status_code == 400
    assert said in response.get_data(as_text=True)
    assert counts(site_world) == (0, 0)


def test_every_answer_is_an_empty_response_and_the_loop_guard_withholds_the_sixth_reply(client, site_world):
    params = payload("unknown_sender")
    answers, replies = [], []
    for i in range(6):
        p = {**params, "MessageSid": f"SM{i:032d}"}
        answers.append(twilio_post(client, "/sms/inbound", p).get_data(as_text=True))
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
