"""One table of real-shaped Africa's Talking callbacks, broken ones included, through POST /ussd with the
shared channel table runner: the screen the phone shows, and the input the inbox keeps (done at once)."""
from dataclasses import replace

import pytest
import redis as redis_lib

from tests.support.channel_cases import Case, Parsed, params, run_case, ussd_request, ussd_token
from tests.support.worlds.ussd import BENEFICIARY, STAFF, STRANGER, rows, screen

FIRST = {"sessionId": "ATUid_7f3a0c9e2b", "serviceCode": "*384*1234#", "phoneNumber": "+919830000001",
         "networkCode": "40410", "text": ""}
MENU = "CON " + screen("ussd.staff_menu", "en")
BAD = "END " + screen("ussd.bad_request", "en")
EXPIRED = "END " + screen("ussd.expired", "en")

DIALLED = Parsed("+919830000001", "", "ussd", None, "ussd-ATUid_7f3a0c9e2b-0")  # the first screen's input: none
IN_QUERY, IN_HEADER = ussd_token(), ussd_token(header=True)
REFUSED = "invalid or missing USSD token\n"
dial = ussd_request  # the gateway's callback, as Africa's Talking posts it


CASES = [
    Case("first request, token in query", dial(FIRST), IN_QUERY, 200, MENU, DIALLED),
    Case("first request, token in header", dial(FIRST), IN_HEADER, 200, MENU, DIALLED),
    Case("national number format", dial({**FIRST, "phoneNumber": "09830000001"}), IN_QUERY, 200, MENU, DIALLED),
    Case("no token", dial(FIRST), None, 403, REFUSED, None),
    Case("wrong token", dial(FIRST), ussd_token("nope"), 403, REFUSED, None),
    Case("wrong token in header", dial(FIRST), ussd_token("test-ussd-tokeN", header=True), 403, REFUSED, None),
    Case("no sessionId", dial({**FIRST, "sessionId": ""}), IN_QUERY, 200, BAD, None),
    Case("no phoneNumber", dial({k: v for k, v in FIRST.items() if k != "phoneNumber"}), IN_QUERY, 200, BAD, None),
    Case("not a phone number", dial({**FIRST, "phoneNumber": "abc"}), IN_QUERY, 200, BAD, None),
    Case("text far too long", dial({**FIRST, "text": "1*" * 600}), IN_QUERY, 200, BAD, None),
    Case("more inputs than a session can have", dial({**FIRST, "text": "*".join(["1"] * 41)}), IN_QUERY, 200, BAD,
         None),
    Case("inputs without a session started", dial({**FIRST, "text": "1*12345678"}), IN_QUERY, 200, EXPIRED, None),
    Case("empty form", dial({}), IN_QUERY, 200, BAD, None),
    Case("JSON instead of the gateway's form", dial(FIRST).replace(
        form=None, body=b'{"sessionId": "ATUid_1", "phoneNumber": "+919830000001"}',
        headers={"Content-Type": "application/json"}), IN_QUERY, 200, BAD, None),
]


@pytest.mark.parametrize("case", params(CASES))
def test_gateway_requests(world, client, at_now, case):
    response = run_case(client, case)
    assert response.mimetype == "text/plain"


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
