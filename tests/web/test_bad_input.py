"""Hostile or broken input at the web endpoints gets a clean answer: valid TwiML, an END screen, a 4xx."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from tests.support.signing import twilio_post
from tests.support.worlds.inbox import kalyani
from tikabot.handlers.twilio_inbound import twiml
from tikabot.handlers.ussd_africastalking import render_reply
from tikabot.runner.ussd import UssdReply

CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def signed_post(client, path, params, query=""):
    return twilio_post(client, path + (f"?{query}" if query else ""), params)


@pytest.fixture
def staff(app):
    services = app.extensions["tikabot"]
    kalyani(services, ("+919830000001", "Mita Roy", "en"))
    return services


@pytest.mark.parametrize("body", ["DOSE 12\x01\x0b34", "DOSE 1234\x00", "UNDO \x1b[31m", "\x07\x08", "LANG \x7fZZ"])
def test_control_characters_in_an_sms_still_give_valid_twiml(client, staff, body):
    params = {"MessageSid": "SM" + "c" * 32, "From": "+919830000001", "To": "+919800000000", "Body": body,
              "AccountSid": "AC" + "1" * 32}
    response = signed_post(client, "/sms/inbound", params)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    ET.fromstring(text.encode())  # parses: Twilio would drop an invalid reply
    assert not CONTROLS.search(text)


@pytest.mark.parametrize("reply", ["REF 12\x01\x0b34 not found", "\x00", "lot \x1b[31mRED", "\ud800 half"])
def test_replies_are_rendered_without_control_characters(reply):
    ET.fromstring(twiml(reply).encode())
    assert not CONTROLS.search(render_reply(UssdReply(reply, end=True)))
    render_reply(UssdReply(reply, end=False)).encode("utf-8")  # no lone surrogate left


@pytest.mark.parametrize("query", ["id=" + "9" * 40 + "&attempt=1", "id=1&attempt=" + "9" * 30, "id=%C2%B2&attempt=1"])
def test_a_signed_status_callback_with_an_unreadable_id_is_a_400(client, staff, query):
    params = {"MessageSid": "SM" + "a" * 32, "MessageStatus": "delivered", "AccountSid": "AC" + "1" * 32}
    response = signed_post(client, "/sms/status", params, query)
    assert response.status_code == 400 and response.mimetype == "text/plain"
    assert "at most 18 digits" in response.get_data(as_text=True)


def test_an_oversized_ussd_request_gets_an_end_screen(client, staff):
    form = {"sessionId": "ATUid_big", "serviceCode": "*384*1234#", "phoneNumber": "+919830000001",
            "networkCode": "40410", "text": "1*" * 40_000}
    response = client.post("/ussd?token=test-ussd-token", data=form)
    assert response.status_code == 200 and response.mimetype == "text/plain"
    assert response.get_data(as_text=True).startswith("END ")


def test_ussd_input_with_control_characters_gets_a_clean_screen(client, staff):
    form = {"sessionId": "ATUid_ctl", "serviceCode": "*384*1234#", "phoneNumber": "+919830000001",
            "networkCode": "40410", "text": ""}
    assert client.post("/ussd?token=test-ussd-token", data=form).status_code == 200
    for text in ("1", "1*12\x01\x0b34"):
        response = client.post("/ussd?token=test-ussd-token", data={**form, "text": text})
        body = response.get_data(as_text=True)
        assert response.status_code == 200 and body[:4] in ("CON ", "END ") and not CONTROLS.search(body)


def test_unknown_paths_get_a_plain_404(client):
    response = client.get("/nothing-here")
    assert response.status_code == 404 and response.mimetype == "text/plain"
