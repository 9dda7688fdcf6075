"""Comparing what a client sent with the simulated account's secret, in constant time, whatever bytes
it sent: a provider answers a credential it cannot read as a wrong one, never with a server error."""
from __future__ import annotations

import base64
import hmac


def same(given, expected) -> bool:
    return hmac.compare_digest(str(given or "").encode("utf-8", "surrogateescape"),
                               str(expected or "").encode("utf-8", "surrogateescape"))


def basic_auth(header: str | None) -> tuple[str, str] | None:
    """(user, password) of an `Authorization: Basic` header; None when there is none or it cannot be read."""
    header = header or ""
    if header[:6].lower() != "basic ":
        return None
    try:
        user, _, password = base64.b64decode(header[6:], validate=True).decode().partition(":")
    except ValueError:  # not base64, not ASCII, not UTF-8
        return None
    return user, password


def basic_auth_is(header: str | None, user: str, password: str) -> bool:
    given = basic_auth(header)
    return given is not None and same(given[0], user) and same(given[1], password)
