"""How long each kind of message may be, and who reads it.

An SMS is paid per segment and some operators drop the concatenation header of a long one, so:
a beneficiary's SMS at most 2 segments (2 x 67 UCS-2 units in Bengali and Hindi), an OTP 1 (it
must arrive whole and at once), a reply or alert to staff and coordinators at most 2.

A USSD screen is one USSD string of at most 160 octets (GSM 04.80, 3GPP TS 23.038): 182 GSM-7
characters, but only 80 UCS-2 characters, which is what every Bengali and Hindi screen is.
"""
from __future__ import annotations

from tikabot.i18n.encoding import GSM7, sms_info

OTP_KEYS = frozenset({"otp.code"})
BENEFICIARY_PREFIXES = ("ben.", "appt.", "dose.", "dose2.")
STAFF_PREFIXES = ("staff.", "alert.")
SEGMENTS = {"otp": 1, "beneficiary": 2, "staff": 2}

USSD_OCTETS = 160
USSD_CHARS = {GSM7: USSD_OCTETS * 8 // 7, "UCS-2": USSD_OCTETS // 2}  # 182 and 80


def reader(key: str) -> str | None:
    """Who gets this template by SMS ("otp", "beneficiary", "staff"), or None when it is not an
    SMS of its own (USSD screens, fragments, Telegram replies)."""
    if key in OTP_KEYS:
        return "otp"
    if key.startswith(BENEFICIARY_PREFIXES):
        return "beneficiary"
    if key.startswith(STAFF_PREFIXES):
        return "staff"
    return None


def max_segments(key: str) -> int | None:
    found = reader(key)
    return None if found is None else SEGMENTS[found]


def ussd_limit(text: str) -> int:
    """The most characters (GSM-7 septets or UTF-16 units) one USSD screen of text's encoding holds."""
    return USSD_CHARS[sms_info(text).encoding]


def ussd_units(text: str) -> int:
    return sms_info(text).units


def fits_ussd(text: str) -> bool:
    return ussd_units(text) <= ussd_limit(text)
