"""The shared channel table runner and the transport guard catch what they are there to catch."""
from __future__ import annotations

import socket

import pytest

from tests.support.channel_cases import (
    Case, NetworkGuard, Parsed, fixture_json, run_case, twilio_request, twilio_signed,
)
from tests.support.network import LeftTheMachine
from tests.support.worlds.inbox import EMPTY_TWIML

DOSE = fixture_json("twilio_inbound", "staff_dose")
KEPT = Parsed(DOSE["From"], DOSE["Body"], "sms", "twilio", DOSE["MessageSid"])


def test_a_case_that_holds_passes(client):
    run_case(client, Case("kept", twilio_request(DOSE), twilio_signed(), 200, EMPTY_TWIML, KEPT))


@pytest.mark.parametrize("wrong", [
    Case("status", twilio_request(DOSE), twilio_signed(), 403, None, None),
    Case("answer", twilio_request(DOSE), twilio_signed(), 200, "<Response/>", KEPT),
    Case("text kept", twilio_request(DOSE), twilio_signed(), 200, EMPTY_TWIML, Parsed(
        DOSE["From"], "DOSE 87654321", "sms", "twilio", DOSE["MessageSid"])),
    Case("route kept", twilio_request(DOSE), twilio_signed(), 200, EMPTY_TWIML, Parsed(
        DOSE["From"], DOSE["Body"], "sms", "exotel", DOSE["MessageSid"])),
    Case("nothing kept", twilio_request(DOSE), twilio_signed(), 200, EMPTY_TWIML, None),
    Case("kept, yet refused", twilio_request(DOSE), None, 403, None, KEPT),
], ids=lambda case: case.name)
def test_a_case_that_does_not_hold_fails(client, wrong):
    with pytest.raises(AssertionError):
        run_case(client, wrong)


def test_the_guard_refuses_an_address_beyond_the_machine_and_names_it(monkeypatch):
    guard = NetworkGuard()
    guard.install(monkeypatch)
    with socket.socket() as sock, pytest.raises(LeftTheMachine):
        sock.connect(("192.0.2.1", 443))  # TEST-NET-1: refused before a packet is sent
    with pytest.raises(LeftTheMachine):
        socket.getaddrinfo("api.twilio.com", 443)  # a lookup already asks the network
    with pytest.raises(LeftTheMachine):
        socket.create_connection(("203.0.113.7", 80), timeout=1)
    assert guard.attempts == ["192.0.2.1:443", "api.twilio.com:443", "203.0.113.7:80"]


def test_the_guard_lets_loopback_through(monkeypatch):
    guard = NetworkGuard()
    guard.install(monkeypatch)
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=5):
            pass
        with socket.create_connection(("localhost", server.getsockname()[1]), timeout=5):
            pass
    assert guard.attempts == []
