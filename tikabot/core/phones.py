"""Phone numbers: E.164 normalisation (default region IN) and masking for logs and replies."""
from __future__ import annotations

from functools import lru_cache

import phonenumbers

DEFAULT_REGION = "IN"


class BadPhone(ValueError):
    pass


@lru_cache(maxsize=4096)  # the same staff phones send all day; parsing one costs more than a query
def normalise(raw: str, region: str = DEFAULT_REGION) -> str:
    """'98300 12345', '+91-98300-12345', '09830012345' -> '+919830012345'."""
    text = (raw or "").strip()
    if not text:
        raise BadPhone("phone is empty")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise BadPhone(f"{text!r} is not a phone number") from exc
    if not phonenumbers.is_valid_number(number):
        raise BadPhone(f"{text!r} is not a valid number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def can_receive_sms(sender: str) -> bool:
    """A phone number, not an operator's alphanumeric sender id (`MTN`, `VM-AIRTEL`) or a short code
    that cannot be written to: a reply to one would only take a slot of a rate-limited route."""
    try:
        normalise(sender)
    except BadPhone:
        return False
    return True


def mask(phone: str | None) -> str:
    """'+919830012345' -> '+91******45': enough to tell numbers apart, not to dial them."""
    if not phone:
        return ""
    if len(phone) <= 5:
        return "*" * len(phone)
    try:
        cc = str(phonenumbers.parse(phone).country_code)
    except phonenumbers.NumberParseException:
        cc = ""
    head = "+" + cc if cc and phone.startswith("+") else phone[:1]
    return head + "*" * (len(phone) - len(head) - 2) + phone[-2:]
