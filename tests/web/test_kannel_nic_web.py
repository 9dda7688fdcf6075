"""Kannel's inbound SMS and delivery reports, and NIC's delivery reports, through the real app: real
requests (Kannel's captured from a real smsbox, tests/fixtures/kannel/), authenticated by the token
in their URL (and for NIC, optionally, the source address)."""
from __future__ import annotations

import pytest

from tests.support.apps import built_app
from tests.support.channel_cases import (
    Case, Parsed, ProviderRequest, kannel_fixture, kannel_request, kannel_token, params, run_case,
)
from tests.support.credentials import KANNEL_CALLBACK_TOKEN, NIC_CALLBACK_TOKEN
from tikabot.outbox.messages import add_message
from tikabot.store.models import OutboundMessage

TOKEN = kannel_token(KANNEL_CALLBACK_TOKEN)
BENGALI_DOSE = kannel_fixture("inbound_bengali_dose")
DOSE_ID = "kannel:8fbf5d1c-24d0-4f58-957b-993e6d18768f"


@pytest.fixture
def app(config):
    with built_app(config, kannel_sendsms_url="http://127.0.0.1:9/cgi-bin/sendsms",
                   kannel_callback_token=KANNEL_CALLBACK_TOKEN, nic_username="district.sms",
                   nic_pin="pin", nic_callback_token=NIC_CALLBACK_TOKEN) as flask_app:
        yield flask_app


INBOUND = [
    Case("bengali dose as ucs2", kannel_request(BENGALI_DOSE), TOKEN, 200, "",
         Parsed("+919800000001", "ডোজ ১২৩৪৫৬৭৮", "sms", "kannel", DOSE_ID)),
    Case("gsm text", kannel_request(kannel_fixture("inbound_text").replace("from=100", "from=9830012345")), TOKEN,
         200, "", Parsed("+919830012345", "fakesmsc-online", "sms", "kannel",
                         "kannel:54197cc5-3b95-46bc-a2e6-1029015f763e")),
    Case("no token", kannel_request(BENGALI_DOSE), None, 403, "invalid or missing token\n", None),
    Case("wrong token", kannel_request(BENGALI_DOSE), kannel_token("guess"), 403, "invalid or missing token\n", None),
    Case("token of another length", kannel_request(BENGALI_DOSE), kannel_token(KANNEL_CALLBACK_TOKEN + "x"), 403,
         "invalid or missing token\n", None),
    Case("no sender", kannel_request(BENGALI_DOSE.replace("from=919800000001", "from=")), TOKEN, 400, None, None),
    Case("odd bytes are no UTF-16", kannel_request(BENGALI_DOSE.replace("%09%EE&", "%09&")), TOKEN, 400,
         "text is not valid utf-16-be (coding 2)\n", None),
    Case("unknown charset", kannel_request(kannel_fixture("inbound_text").replace("UTF-8", "NO-SUCH")), TOKEN, 400,
         "text is not valid NO-SUCH (coding 0)\n", None),
    Case("a NUL in the id", kannel_request(kannel_fixture("inbound_text").replace("id=54197cc5", "id=%0054197cc5")),
         TOKEN, 400, "id holds a NUL\n", None),
]


@pytest.mark.parametrize("case", params(INBOUND))
def test_kannel_inbound(client, case):
    run_case(client, case)


def test_the_same_kannel_message_twice_is_kept_once(client):
    case = INBOUND[0]
    run_case(client, case)
    run_case(client, Case("again", case.request, TOKEN, 200, "", None))


def outbox_row(app, via: str, provider_id: str | None = None) -> int:
    services = app.extensions["tikabot"]
    with services.transaction() as s:
        row = add_message(s, key=f"k-{via}", recipient="+919830012345", template="otp.code",
                          params={"code": "482913", "minutes": 10}, language="bn", channel="sms")
        row.attempts, row.status, row.via = 1, "accepted", via
        s.flush()
        row.provider_id = provider_id or f"kannel-{row.id}-1"  # as KannelSender names an attempt
        return row.id


def status_of(app, message_id: int) -> tuple[str, str | None]:
    with app.extensions["tikabot"].sessions() as s:
        row = s.get(OutboundMessage, message_id)
        return row.status, row.last_error_code


def report(query: str, path: str) -> ProviderRequest:
    return kannel_request(query, path=path)


@pytest.mark.parametrize("fixtures, final", [
    (["dlr_smsc"], ("sent", None)), (["dlr_smsc", "dlr_delivered"], ("delivered", None)),
    (["dlr_delivered", "dlr_smsc"], ("delivered", None)),  # a late SMSC report never undoes delivered
    (["dlr_smsc", "dlr_failed"], ("failed", "dlr16"))])
def test_kannel_reports_move_the_message(app, client, fixtures, final):
    message_id = outbox_row(app, "kannel")
    for name in fixtures:
        raw = (kannel_fixture(name) if name != "dlr_failed" else "token=TOKEN&id=3&attempt=1&status=16&answer=NACK")
        raw = raw.replace("id=3&", f"id={message_id}&")
        run_case(client, Case(name, report(raw, "/channels/kannel/dlr"), TOKEN, 200, "", None))
    assert status_of(app, message_id) == final


@pytest.mark.parametrize("raw, status", [("id=1&attempt=1&status=1", 403), ("token=x&id=1&attempt=1&status=1", 403),
                                         ("token=T&id=1&attempt=1&status=3", 400), ("token=T&status=1", 400)])
def test_kannel_reports_without_the_token_or_a_known_status_are_refused(app, client, raw, status):
    message_id = outbox_row(app, "kannel")
    raw = raw.replace("token=T&", "")
    sign = TOKEN if status == 400 else None
    run_case(client, Case(raw, report(raw, "/channels/kannel/dlr"), sign, status, None, None))
    assert status_of(app, message_id) == ("accepted", None)


NIC = "/channels/nic/dlr"


@pytest.mark.parametrize("query, final", [
    ("requestid=1790000000000000001&mobile=919830012345&status=DELIVRD&errcode=000", ("delivered", None)),
    ("requestid=1790000000000000001&mobile=919830012345&status=REJECTD&errcode=001", ("failed", "001")),
    ("msgid=1790000000000000001&status=UNDELIV", ("pending", "undeliv"))])
def test_nic_reports_move_the_message(app, client, query, final):
    message_id = outbox_row(app, "nic", provider_id="1790000000000000001")
    run_case(client, Case(query, ProviderRequest(path=f"{NIC}?token={NIC_CALLBACK_TOKEN}&{query}", method="GET"),
                          None, 200, "", None))
    assert status_of(app, message_id)[0] == final[0] and status_of(app, message_id)[1] == final[1]


@pytest.mark.parametrize("path, status", [
    (f"{NIC}?requestid=1790000000000000001&status=DELIVRD", 403),
    (f"{NIC}?token=guess&requestid=1790000000000000001&status=DELIVRD", 403),
    (f"{NIC}?token={NIC_CALLBACK_TOKEN}&requestid=1790000000000000001&status=MAYBE", 400)])
def test_nic_reports_without_the_token_are_refused(app, client, path, status):
    message_id = outbox_row(app, "nic", provider_id="1790000000000000001")
    run_case(client, Case(path, ProviderRequest(path=path, method="GET"), None, status, None, None))
    assert status_of(app, message_id) == ("accepted", None)


def test_nic_reports_from_an_address_not_allowed_are_refused(config):
    with built_app(config, nic_username="district.sms", nic_pin="pin", nic_callback_token=NIC_CALLBACK_TOKEN,
                   nic_allowed_sources=("164.100.0.0/16",)) as flask_app:
        message_id = outbox_row(flask_app, "nic", provider_id="1790000000000000001")
        path = f"{NIC}?token={NIC_CALLBACK_TOKEN}&requestid=1790000000000000001&status=DELIVRD"
        answer = flask_app.test_client().get(path)  # from 127.0.0.1
        assert answer.status_code == 403 and status_of(flask_app, message_id) == ("accepted", None)
        answer = flask_app.test_client().get(path, environ_base={"REMOTE_ADDR": "164.100.14.5"})
        assert answer.status_code == 200 and status_of(flask_app, message_id) == ("delivered", None)


@pytest.mark.parametrize("peer, forwarded, status", [
    ("127.0.0.1", "164.100.14.5", 200),         # NIC, as nginx on this server saw it
    ("127.0.0.1", "203.0.113.9", 403),          # somebody else, through nginx
    ("203.0.113.9", "164.100.14.5", 403),       # a forged header from a peer that is not our proxy
    ("127.0.0.1", "not-an-address", 403)])
def test_nic_reports_behind_our_proxy_are_judged_by_the_address_it_saw(config, peer, forwarded, status):
    with built_app(config, nic_username="district.sms", nic_pin="pin", nic_callback_token=NIC_CALLBACK_TOKEN,
                   nic_allowed_sources=("164.100.0.0/16",)) as flask_app:
        message_id = outbox_row(flask_app, "nic", provider_id="1790000000000000001")
        path = f"{NIC}?token={NIC_CALLBACK_TOKEN}&requestid=1790000000000000001&status=DELIVRD"
        answer = flask_app.test_client().get(path, environ_base={"REMOTE_ADDR": peer},
                                             headers={"X-Forwarded-For": forwarded})
        assert answer.status_code == status
        assert status_of(flask_app, message_id) == (("delivered", None) if status == 200 else ("accepted", None))
