"""Twilio inbound SMS: check the signature, read the request into an InboundMessage, render TwiML.

Translation only: no flows, no database. The signature is checked against the public URL Twilio
called (PUBLIC_BASE_URL + path + query, so it works behind a proxy), over every POST parameter
received, with twilio's RequestValidator (HMAC-SHA1, constant-time comparison).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Mapping
from xml.sax.saxutils import escape

from twilio.request_validator import RequestValidator

from tikabot.core.phones import BadPhone, normalise
from tikabot.core.safe_text import printable
from tikabot.core.message import InboundMessage

CHANNEL = "sms"
MAX_BODY = 1600  # Twilio's own limit for one message body
MAX_SID, MAX_SENDER = 64, 40  # what the inbound register's columns hold (Twilio's are 34 and at most 16)
REQUIRED = ("MessageSid", "From")


class BadRequest(ValueError):
    """A request that is signed but cannot be read; the text says what is wrong."""


def public_url(public_base_url: str | None, path: str, query: str, request_url: str) -> str:
    """The URL Twilio signed: rebuilt from PUBLIC_BASE_URL when set, else as received."""
    if not public_base_url:
        return request_url
    return public_base_url.rstrip("/") + path + (f"?{query}" if query else "")


def signature_ok(auth_token: str | None, url: str, params: Mapping[str, str], signature: str | None) -> bool:
    """`params`: the form as received, every value of a repeated field with it (a MultiDict: Twilio's
    algorithm signs each value), so a value added after signing is refused, not quietly ignored."""
    if not auth_token or not signature:
        return False
    return _validator(auth_token).validate(url, params, signature)


@lru_cache(maxsize=4)
def _validator(auth_token: str) -> RequestValidator:
    return RequestValidator(auth_token)


def to_message(params: Mapping[str, str]) -> InboundMessage:
    missing = [name for name in REQUIRED if not params.get(name)]
    if missing:
        raise BadRequest(f"missing field: {', '.join(missing)}")
    body = params.get("Body", "")
    if len(body) > MAX_BODY:
        raise BadRequest(f"Body longer than {MAX_BODY} characters")
    if len(params["MessageSid"]) > MAX_SID:
        raise BadRequest(f"MessageSid longer than {MAX_SID} characters")
    if len(params["From"]) > MAX_SENDER:
        raise BadRequest(f"From longer than {MAX_SENDER} characters")
    try:
        sender = normalise(params["From"])
    except BadPhone:
        sender = params["From"].strip()  # a short code or alphanumeric sender: keep it as sent
    # Control characters carry no meaning in an SMS, and PostgreSQL cannot store a NUL: drop them on the way in.
    return InboundMessage(channel=CHANNEL, provider_id=params["MessageSid"], sender=sender, text=printable(body),
                          via="twilio")


TWIML_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response />'
TWIML_MESSAGE = '<?xml version="1.0" encoding="UTF-8"?><Response><Message>{}</Message></Response>'


def twiml(reply: str | None) -> str:
    """The TwiML twilio's MessagingResponse renders, from a fixed template: building the element
    tree for one <Message> cost more than the rest of the request's Python."""
    return TWIML_MESSAGE.format(escape(printable(reply))) if reply else TWIML_EMPTY
