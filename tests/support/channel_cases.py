"""One table runner for every channel's real payloads (after courier's handlertest.RunIncomingTestCases).

A Case is a provider's real request (unsigned), how it is signed (or not), and what must follow: the
HTTP status and exact answer the provider gets, and the message the inbox kept, parsed (sender,
text, channel, via, provider id), or nothing kept. `run_case` posts it through the real Flask app
and checks all of it. For outbound sends, `no_network` fails a test whose code tries to reach
beyond loopback."""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from tests.support.credentials import EXOTEL_CALLBACK_TOKEN, PUBLIC_BASE_URL, TEST_AUTH_TOKEN, USSD_TOKEN
from tests.support.network import NetworkGuard, no_network  # noqa: F401  (re-exported: the outbound guard)
from tests.support.signing import smsgate_headers, twilio_headers, ussd_headers
from tikabot.store.models import InboundMessage

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@dataclass(frozen=True)
class ProviderRequest:
    """A request as the provider sends it: method, path, query, and a form or a raw body."""
    path: str
    method: str = "POST"
    query: Mapping[str, str] = field(default_factory=dict)
    form: Mapping[str, str] | None = None
    body: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def path_and_query(self) -> str:
        return self.path + (f"?{urlencode(self.query)}" if self.query else "")

    def replace(self, **changes) -> "ProviderRequest":
        return dataclasses.replace(self, **changes)

    def with_headers(self, headers: Mapping[str, str]) -> "ProviderRequest":
        return self.replace(headers={**self.headers, **headers})


Signer = Callable[[ProviderRequest], ProviderRequest]


@dataclass(frozen=True)
class Parsed:
    """The message the inbox keeps for a request: who, what, on which channel and route, its id."""
    sender: str
    text: str
    channel: str
    via: str | None
    provider_id: str


@dataclass(frozen=True)
class Case:
    name: str
    request: ProviderRequest  # the provider's real request, before signing
    sign: Signer | None  # how the provider signs it; None: sent unsigned
    status: int
    reply: str | None  # the exact answer body; None: not compared (a rendered screen checked elsewhere)
    message: Parsed | None  # what the inbox kept; None: nothing
    tamper: Signer | None = None  # a change made after signing (a man in the middle)


def params(cases: list[Case]) -> list:
    """The cases as pytest parameters named by the case."""
    return [pytest.param(case, id=case.name) for case in cases]


def kept(services) -> list[InboundMessage]:
    with services.sessions() as s:
        return list(s.scalars(select(InboundMessage).order_by(InboundMessage.id)))


def send(client, case: Case):
    request = case.sign(case.request) if case.sign else case.request
    if case.tamper:
        request = case.tamper(request)
    data = request.form if request.form is not None else request.body
    return client.open(request.path, method=request.method, query_string=dict(request.query) or None, data=data,
                       headers=dict(request.headers))


def run_case(client, case: Case):
    """Post the case through the real app; check status, answer and the kept message. The response."""
    services = client.application.extensions["tikabot"]
    before = {row.id for row in kept(services)}
    response = send(client, case)
    answer = response.get_data(as_text=True)
    assert response.status_code == case.status, (case.name, answer)
    if case.reply is not None:
        assert answer == case.reply, case.name
    new = [row for row in kept(services) if row.id not in before]
    if case.message is None:
        assert new == [], (case.name, [(r.sender, r.body) for r in new])
    else:
        assert [Parsed(r.sender, r.body, r.channel, r.via, r.provider_id) for r in new] == [case.message], case.name
    return response


# --- each provider's real requests and its signers ------------------------------------------------

def fixture_json(folder: str, name: str) -> dict:
    return json.loads((FIXTURES / folder / f"{name}.json").read_text(encoding="utf-8"))


def twilio_request(payload: dict, path: str = "/sms/inbound", query: Mapping[str, str] | None = None):
    return ProviderRequest(path=path, query=dict(query or {}), form=payload)


def twilio_signed(token: str = TEST_AUTH_TOKEN, base: str = PUBLIC_BASE_URL) -> Signer:
    """Signed as Twilio signs: over the URL it called (base + path + query) and the form."""
    return lambda request: request.with_headers(twilio_headers(request.path_and_query, dict(request.form or {}),
                                                               token, base))


def smsgate_request(payload: dict | bytes) -> ProviderRequest:
    body = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
    return ProviderRequest(path="/channels/smsgate", body=body, headers={"Content-Type": "application/json"})


def smsgate_signed(key: str, at_offset: float = 0.0) -> Signer:
    """Signed as the gateway app signs: HMAC-SHA256 over body + X-Timestamp, `at_offset` s from now."""
    import time

    return lambda request: request.with_headers(smsgate_headers(request.body, key, at=time.time() + at_offset))


def exotel_request(payload: dict, method: str = "GET") -> ProviderRequest:
    """Exotel's SMS app calls its URL with GET (fields in the query); POST sends them as a form."""
    if method == "GET":
        return ProviderRequest(path="/channels/exotel/inbound", method="GET", query=dict(payload))
    return ProviderRequest(path="/channels/exotel/inbound", form=dict(payload))


def exotel_token(token: str = EXOTEL_CALLBACK_TOKEN) -> Signer:
    """Exotel signs nothing: the URL it was given carries the token, first in the query."""
    return lambda request: request.replace(query={"token": token, **request.query})


def ussd_request(form: dict) -> ProviderRequest:
    return ProviderRequest(path="/ussd", form=form)


def ussd_token(token: str = USSD_TOKEN, header: bool = False) -> Signer:
    """The USSD gateway's shared token, in the URL (?token=) or the X-USSD-Token header."""
    if header:
        return lambda request: request.with_headers(ussd_headers(token))
    return lambda request: request.replace(query={**request.query, "token": token})


def kannel_request(raw_query: str, path: str = "/channels/kannel/inbound") -> ProviderRequest:
    """Kannel's GET as smsbox sends it: the query exactly as Kannel escaped it (a UTF-16BE body is
    bytes, so the query is kept raw in the path, not re-encoded), its token left out (see kannel_token)."""
    kept = "&".join(part for part in raw_query.split("&") if not part.startswith("token="))
    return ProviderRequest(path=f"{path}?{kept}", method="GET")


def kannel_fixture(name: str) -> str:
    return (FIXTURES / "kannel" / f"{name}.txt").read_text(encoding="ascii").strip()


def kannel_token(token: str) -> Signer:
    """Kannel signs nothing: the URL it was configured with carries the token."""
    return lambda request: request.replace(path=f"{request.path}{'&' if '?' in request.path else '?'}token={token}")
