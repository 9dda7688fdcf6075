"""C-DAC Mobile Seva's pull SMS: MSDG's real request shape through the channel table runner. MSDG signs
nothing, so a request is taken only from MSDG's address (read through our proxy's X-Forwarded-For)
and with the URL's secret token; the state's keyword is stripped and the reply goes back by push."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.support.apps import built_app
from tests.support.channel_cases import Case, Parsed, ProviderRequest, params, run_case
from tests.support.worlds.inbox import kalyani, settle
from tikabot.handlers.cdac import to_message
from tikabot.store.models import OutboundMessage

TOKEN = "cdac-pull-token-5b8e0f2a9c3d4e7f8a1b2c3d4e5f6a7b"
MSDG = "164.100.14.211"  # the address MSDG's pull requests come from (CDAC_PULL_SOURCES)
PROXY = "127.0.0.1"  # our reverse proxy: the test client connects from here
VACCINATOR = "+919830011111"
PULL = {"mobileNumber": "9830011111", "timeStamp": "2026-03-02 09:14:05", "operatorName": "", "areaCode": "",
        "message": "WB TIKA START COVISHIELD L9"}


@pytest.fixture
def app(config):
    with built_app(config, cdac_username="wbhealth", cdac_password="pw", cdac_secure_key="key",
                   cdac_pull_token=TOKEN, cdac_pull_sources=(f"{MSDG}/32",), trusted_proxies=(f"{PROXY}/32",),
                   cdac_keyword="WB TIKA") as flask_app:
        yield flask_app


def pull(payload: dict = PULL, method: str = "GET", token: str | None = TOKEN, via: str | None = MSDG):
    """MSDG's call as our proxy hands it on: fields in the query (GET) or a form (POST), the token in
    the registered URL, the address the proxy saw in X-Forwarded-For."""
    query = {"token": token} if token is not None else {}
    headers = {"X-Forwarded-For": via} if via is not None else {}
    if method == "GET":
        return ProviderRequest(path="/channels/cdac/inbound", method="GET", query={**query, **payload}, headers=headers)
    return ProviderRequest(path="/channels/cdac/inbound", query=query, form=dict(payload), headers=headers)


START = Parsed(VACCINATOR, "START COVISHIELD L9", "sms", "cdac", to_message(PULL, "WB TIKA").provider_id)
SOURCE_REFUSED, TOKEN_REFUSED = "source address not allowed\n", "invalid or missing token\n"

INBOUND = [
    Case("GET from MSDG with the token", pull(), None, 200, "", START),
    Case("POST from MSDG with the token", pull(method="POST"), None, 200, "", START),
    Case("keyword in lower case, extra spaces", pull({**PULL, "message": "wb  tika START COVISHIELD L9"}), None, 200,
         "", Parsed(VACCINATOR, "START COVISHIELD L9", "sms", "cdac",
                    to_message({**PULL, "message": "wb  tika START COVISHIELD L9"}, "WB TIKA").provider_id)),
    Case("bengali command", pull({**PULL, "message": "WB TIKA ডোজ ০৭০০০০০০০১"}), None, 200, "",
         Parsed(VACCINATOR, "ডোজ ০৭০০০০০০০১", "sms", "cdac",
                to_message({**PULL, "message": "WB TIKA ডোজ ০৭০০০০০০০১"}, "WB TIKA").provider_id)),
    Case("wrong token", pull(token="cdac-pull-token-guess"), None, 403, TOKEN_REFUSED, None),
    Case("no token", pull(token=None), None, 403, TOKEN_REFUSED, None),
    Case("token differs only in case", pull(token=TOKEN.upper()), None, 403, TOKEN_REFUSED, None),
    Case("right token from another address", pull(via="203.0.113.9"), None, 403, SOURCE_REFUSED, None),
    Case("the proxy itself, no forwarded address", pull(via=None), None, 403, SOURCE_REFUSED, None),
    Case("MSDG's address forged before a stranger's", pull(via=f"{MSDG}, 203.0.113.9"), None, 403, SOURCE_REFUSED,
         None),
    Case("missing message", pull({k: v for k, v in PULL.items() if k != "message"}), None, 400,
         "message required\n", None),
    Case("missing mobileNumber", pull({k: v for k, v in PULL.items() if k != "mobileNumber"}, "POST"), None, 400,
         "mobileNumber required\n", None),
    Case("missing timeStamp", pull({k: v for k, v in PULL.items() if k != "timeStamp"}), None, 400,
         "timeStamp required\n", None),
    Case("not a number", pull({**PULL, "mobileNumber": "98300abcde"}), None, 400,
         "mobileNumber is not a phone number\n", None),
]


@pytest.mark.parametrize("case", params(INBOUND))
def test_pull_table(client, case):
    response = run_case(client, case)
    assert response.mimetype == "text/plain"


def test_msdg_calling_again_with_the_same_sms_is_kept_once(client):
    run_case(client, INBOUND[0])
    run_case(client, Case("again", pull(), None, 200, "", None))


def test_a_direct_connection_from_msdg_needs_no_proxy(config):
    with built_app(config, cdac_username="wbhealth", cdac_password="pw", cdac_secure_key="key",
                   cdac_pull_token=TOKEN, cdac_pull_sources=(f"{MSDG}/32",), cdac_keyword="WB TIKA") as app:
        client = app.test_client()
        query = {"token": TOKEN, **PULL}
        direct = client.get("/channels/cdac/inbound", query_string=query, environ_base={"REMOTE_ADDR": MSDG})
        # from a peer not among our proxies the header is nobody's word: a stranger cannot claim MSDG's address
        forged = client.get("/channels/cdac/inbound", query_string=query, headers={"X-Forwarded-For": MSDG},
                            environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert (direct.status_code, forged.status_code) == (200, 403)


def test_the_reply_goes_back_by_push_on_cdac(client, app):
    services = app.extensions["tikabot"]
    kalyani(services, (VACCINATOR, "Rina", "en"))
    run_case(client, INBOUND[0])
    settle(services)
    with services.sessions() as s:
        reply = s.scalar(select(OutboundMessage).where(OutboundMessage.idempotency_key == f"reply-{START.provider_id}"))
    assert (reply.recipient, reply.channel, reply.via) == (VACCINATOR, "sms", "cdac")
    assert reply.body.startswith("Session open: COVISHIELD lot L9")


def test_pull_is_closed_when_not_set_up(config):
    with built_app(config) as app:
        response = app.test_client().get("/channels/cdac/inbound", query_string={"token": TOKEN, **PULL})
    assert response.status_code == 404
