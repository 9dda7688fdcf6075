"""Which routes a staff member may report through (staff.csv `report_via`), and whether a message's
route is one of them.

A provider reports the sender of an SMS, and tikabot takes it as given: a gateway phone's key or
Exotel's callback token can speak as any number. Binding a vaccinator to the gateway phones (or
routes) their SMS really come through limits what one leaked key can do to the staff of those phones.

A binding is a list of routes, separated by spaces or commas: `twilio`, `exotel`, `android` (any
gateway phone), `cdac` (C-DAC pull SMS) or `android:<phone id>` (one phone, its `SMSGATE_ID` / `SMSGATE_PHONES` id), and
`ussd` (the USSD menus, whose gateway reports the caller as a provider reports an SMS sender). Empty:
any route, as before bindings existed. Stored on the staff row as its canonical text (None: any).
"""
from __future__ import annotations

import re

ROUTES = ("twilio", "exotel", "cdac", "android", "ussd")
USSD = "ussd"  # the route of a USSD session
PHONED = ("android",)  # routes that name a phone after a colon
PHONE_ID = re.compile(r"^[A-Za-z0-9_-]{1,24}$")  # as config.PHONE_ID
SEPARATORS = re.compile(r"[\s,;]+")
MAX_LENGTH = 200  # the column's size


class BadBinding(ValueError):
    """A `report_via` value that names no route tikabot has; the message says what to write."""


def parse(text: str | None) -> str | None:
    """`report_via` as written -> its canonical text (routes in lower case, phone ids as they are,
    no repeats, one space between), or None for any route. Raises BadBinding."""
    found: list[str] = []
    for token in SEPARATORS.split((text or "").strip()):
        if not token:
            continue
        route, colon, phone = token.partition(":")
        route = route.lower()
        if route not in ROUTES or (colon and (route not in PHONED or not PHONE_ID.match(phone))):
            raise BadBinding(f"report_via {token!r} is not a route: write twilio, exotel, android, "
                             "android:<phone id> or ussd (letters, digits, - and _), separated by spaces")
        canonical = f"{route}:{phone}" if colon else route
        if canonical not in found:
            found.append(canonical)
    joined = " ".join(found)
    if len(joined) > MAX_LENGTH:
        raise BadBinding(f"report_via is longer than {MAX_LENGTH} characters")
    return joined or None


def allows(binding: str | None, via: str | None) -> bool:
    """May a message that came in on route `via` ("twilio", "exotel", "android:<phone>") speak for a
    staff member bound to `binding`? An unbound member: any route. A message whose route is not
    known ("") never matches a binding."""
    if not binding:
        return True
    if not via:
        return False
    route = via.partition(":")[0]
    return any(entry == via or entry == route for entry in binding.split())
