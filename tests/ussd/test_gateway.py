"""One table of real-shaped Africa's Talking callbacks, broken ones included, through POST /ussd."""
from dataclasses import replace

import pytest
import redis as redis_lib

from tests.support.worlds.ussd import BENEFICIARY, STAFF, STRANGER, TOKEN, rows, screen
from tikabot.store.models import InboundMessage

FIRST = {"sessionId": "ATUid_7f3a0c9e2b", "serviceCode": "*384*1234#", "phoneNumber": "+919830000001",
         "networkCode": "40410", "text": ""}
MENU = "CON " + screen("ussd.staff_menu", "en")
BAD = "END " + screen("ussd.bad_request", "en")
EXPIRED = "END " + screen("ussd.expired", "en")

CASES = [  # (name, form, token, header, status, body)
    ("first request, token in query", FIRST, TOKEN, False, 200, MENU),
    ("first request, token in header", FIRST, TOKEN, True, 200, MENU),
    ("national number format", {**FIRST, "phoneNumber": "09830000001"}, TOKEN, False, 200, MENU),
    ("no token", FIRST, None, False, 403, None),
    ("wrong token", FIRST, "nope", False, 403, None),
    ("wrong token in header", FIRST, "test-ussd-tokeN", True, 403, None),
    ("no sessionId", {**FIRST, "sessionId": ""}, TOKEN, False, 200, BAD),
    ("no phoneNumber", {k: v for k, v in FIRST.items() if k != "phoneNumber"}, TOKEN, False, 200, BAD),
    ("not a phone number", {**FIRST, "phoneNumber": "abc"}, TOKEN, False, 200, BAD),
    ("text far too long", {**FIRST, "text": "1*" * 600}, TOKEN, False, 200, BAD),
    ("more inputs than a session can have", {**FIRST, "text": "*".join(["1"] * 41)}, TOKEN, False, 200, BAD),
    ("inputs without a session started", {**FIRST, "text": "1*12345678"}, TOKEN, False, 200, EXPIRED),
    ("empty form", {}, TOKEN, False, 200, BAD),
]


@pytest.mark.parametrize("name, form, token, header, status, body", CASES, ids=[c[0] for c in CASES])
def test_gateway_requests(world, post, at_now, name, form, token, header, status, body):
    response = post(form, token=token, header=header)
    assert response.status_code == status
    assert response.mimetype == "text/plain"
    if body is not None:
        assert response.get_data(as_text=True) == body
    if status == 403:
        assert rows(world, InboundMessage) == []


def test_no_token_configured_refuses_everyone(app, world, post):
    services = app.extensions["tikabot"]
    services.config = replace(services.config, ussd_token=None)
    assert post(FIRST, token="").status_code == 403
    assert post(FIRST, token="None").status_code == 403


def test_a_session_past_the_input_cap_is_ended_without_handling_any_input(world, phone):
    p = phone(STAFF["en"])
    p.dial()
    ten_doses = ["1", "12345678", "1", "1", "L1", "1"] * 10  # 60 inputs arriving in one request
    assert p.press("*".join(ten_doses)) == BAD
    from tikabot.store.models import Dose
    assert rows(world, Dose, Dose.source == "ussd") == []


def test_a_repeated_request_gets_the_same_screen_and_changes_nothing(world, phone):
    p = phone(STAFF["en"])
    for value in (None, "1", "12345678", "1", "1", "L1"):
        p.dial() if value is None else p.press(value)
    recorded = p.press("1")
    assert recorded.startswith("CON " + screen("ussd.dose_recorded", "en", ref="12345678", name="Rahima", dose=1,
                                               count=1))
    assert p.dial() == recorded  # the gateway sends the same text again
    from tikabot.store.models import Dose
    assert len(rows(world, Dose, Dose.source == "ussd")) == 1


def test_progress_lives_in_redis_by_session_and_expires(world, phone, config):
    p = phone(STAFF["en"])
    p.dial()
    p.press("1")
    client = redis_lib.Redis.from_url(config.redis_url)
    try:
        key = f"tikabot:ussd:{p.session_id}"
        assert 0 < client.ttl(key) <= 600
        assert p.press("12345678").startswith("CON 12345678 Rahima")
        client.delete(key)  # what expiry does
    finally:
        client.close()
    assert p.press("1") == EXPIRED


def test_another_phone_cannot_continue_a_session(world, phone, post):
    p = phone(STAFF["en"])
    p.dial()
    p.press("1")
    other = post({**p.form(), "phoneNumber": STAFF["bn"], "text": "1*12345678"}).get_data(as_text=True)
    assert other == "END " + screen("ussd.expired", "bn")  # in the language of the phone that tried
    assert p.press("12345678").startswith("CON 12345678 Rahima")


@pytest.mark.parametrize("number, lang", [(STAFF["hi"], "hi"), (BENEFICIARY["bn"], "bn"), (STRANGER, "en")])
def test_an_expired_session_is_told_in_the_callers_language(world, phone, number, lang):
    p = phone(number)
    p.inputs = ["1", "12345678"]  # inputs the gateway still sends after our progress expired
    assert p.dial() == "END " + screen("ussd.expired", lang)


def test_a_busy_phone_is_told_in_its_language(world, phone, config, monkeypatch):
    from tikabot.runner import guards

    monkeypatch.setattr(guards, "LOCK_WAIT", 0.05)
    p = phone(BENEFICIARY["bn"])
    client = redis_lib.Redis.from_url(config.redis_url)
    try:  # another message from the same phone holds the lock for longer than a USSD request waits
        client.set(f"tikabot:lock:{BENEFICIARY['bn']}", "someone-else", px=60_000)
        assert p.dial() == "END " + screen("ussd.busy", "bn")
    finally:
        client.delete(f"tikabot:lock:{BENEFICIARY['bn']}")
        client.close()
