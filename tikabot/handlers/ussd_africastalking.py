"""Africa's Talking USSD: read the callback form into a UssdRequest, render a UssdReply.

Translation only: no menus, no database. The gateway POSTs `sessionId`, `serviceCode`,
`phoneNumber`, `networkCode` and `text` (every input of the session joined by `*`, empty on the
first request) and shows our answer: `CON <screen>` waits for more input, `END <screen>` closes
the session. Only this module knows those prefixes; another gateway is another module with the
same two functions.
"""
from __future__ import annotations

from typing import Mapping

from tikabot.core.phones import BadPhone, normalise
from tikabot.core.safe_text import printable, storable_id
from tikabot.core.ussd import UssdReply, UssdRequest

CONTENT_TYPE = "text/plain; charset=utf-8"
PREFIX = {False: "CON ", True: "END "}  # the session flag -> what the gateway reads
MAX_REPLY = 182  # characters, prefix included
MAX_FIELD = 200
MAX_TEXT = 1000
MAX_INPUTS = 40  # a walk recording a few doses is about 20; each input is a transaction in the web worker
REQUIRED = ("sessionId", "phoneNumber")


class BadRequest(ValueError):
    """A request the gateway should not have sent; the text says what is wrong."""


def parse_request(form: Mapping[str, str]) -> UssdRequest:
    missing = [name for name in REQUIRED if not (form.get(name) or "").strip()]
    if missing:
        raise BadRequest(f"missing field: {', '.join(missing)}")
    for name in ("sessionId", "serviceCode", "phoneNumber", "networkCode"):
        if len(form.get(name) or "") > MAX_FIELD:
            raise BadRequest(f"{name} is too long")
        if not storable_id(form.get(name) or ""):
            raise BadRequest(f"{name} holds a NUL or an unpaired surrogate")
    text = printable(form.get("text") or "")  # PostgreSQL cannot store a NUL; controls mean nothing here
    if len(text) > MAX_TEXT:
        raise BadRequest("text is too long")
    inputs = text.split("*") if text else []
    if len(inputs) > MAX_INPUTS:
        raise BadRequest(f"{len(inputs)} inputs in one session, more than {MAX_INPUTS}")
    try:
        phone = normalise(form["phoneNumber"])
    except BadPhone as exc:
        raise BadRequest(str(exc)) from exc
    return UssdRequest(session_id=form["sessionId"].strip(), phone=phone,
                       inputs=inputs, service_code=form.get("serviceCode") or "",
                       network_code=form.get("networkCode") or "")


def render_reply(reply: UssdReply) -> str:
    """The body the gateway expects; cut to the gateway's limit (screens are sized to fit anyway)."""
    return (PREFIX[reply.end] + printable(reply.text))[:MAX_REPLY]
