"""The simulated providers answer a credential holding bytes that are not ASCII as a wrong one (as
the real ones do), never with a server error: the simulator must not crash where a provider would not."""
from __future__ import annotations

import http.client
from urllib.parse import urlsplit

import pytest

from tikabot.simulator.credentials import same

NOT_ASCII = b"Basic \xe9\xe9\xe9"


def raw_post(url: str, path: str, headers: dict[str, bytes | str], body: bytes = b"") -> int:
    """One request with the header bytes as given (http.client sends latin-1 bytes through)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.putrequest("POST", path)
        for name, value in {**headers, "Content-Length": str(len(body))}.items():
            connection.putheader(name, value)
        connection.endheaders(body)
        return connection.getresponse().status
    finally:
        connection.close()


@pytest.mark.parametrize("path", ["/2010-04-01/Accounts/ACsim/Messages.json",
                                  "/v1/Accounts/simexotel/Sms/send.json"])
def test_a_basic_auth_header_that_is_not_ascii_is_refused_as_wrong_credentials(sim, path):
    assert raw_post(sim.url, path, {"Authorization": NOT_ASCII,
                                    "Content-Type": "application/x-www-form-urlencoded"}, b"To=1") == 401


@pytest.mark.parametrize("given, expected, answer", [("pw", "pw", True), ("pw", "px", False), ("é", "e", False),
                                                     ("\udce9", "x", False), (None, "", True), ("", "x", False)])
def test_same_compares_any_text(given, expected, answer):
    assert same(given, expected) is answer
