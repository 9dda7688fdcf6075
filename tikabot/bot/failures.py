"""Why a message failed, in a person's words, and whether sending it again can still help.

Provider vocabularies are tables (tikabot/handlers/twilio_sms.py TWILIO_ERRORS, the Telegram
sender's codes); this maps their kinds onto the few reasons a coordinator acts on. The words are
the catalog's `bot.reason_<reason>`.
"""
from __future__ import annotations

from datetime import date, datetime

from tikabot.core.clock import as_utc
from tikabot.handlers.twilio_sms import classify
from tikabot.bot.plan import slot_window

REASONS = {  # provider error kind -> reason
    "handset_unreachable": "switched_off", "unknown_delivery_error": "switched_off",
    "validity_expired": "switched_off", "carrier_error": "switched_off",
    "not_a_mobile": "not_mobile", "landline_or_unreachable_carrier": "not_mobile", "invalid_number": "not_mobile",
    "unknown_destination": "not_mobile", "unroutable": "not_mobile", "region_not_enabled": "not_mobile",
    "opted_out": "stop",
    "authentication_failed": "account", "account_forbidden": "account", "account_suspended": "account",
    "blocked": "blocked", "filtered": "blocked",
}
OUR_CODES = {"expired": "too_late", "400": "telegram", "403": "telegram"}  # not Twilio's numbers
ORDER = ("switched_off", "not_mobile", "stop", "account", "blocked", "telegram", "too_late", "other")
KINDS = (("appt.reminder", "reminder"), ("appt.", "booking"), ("otp.", "code"), ("alert.", "alert"),
         ("staff.", "staff"), ("broadcast", "broadcast"))


def reason_of(code: str | None, channel: str = "sms") -> str:
    if not code:
        return "other"
    if channel == "telegram" or code.startswith("telegram"):
        return "telegram"
    if code in OUR_CODES:
        return OUR_CODES[code]
    if code.isascii() and code.isdigit():
        return REASONS.get(classify(int(code)).name, "other")
    return "other"


def kind_of(template: str) -> str:
    """A message's kind as a coordinator names it (bot.msgkind_<kind>)."""
    for prefix, kind in KINDS:
        if template.startswith(prefix):
            return kind
    return "other"


def retry_pointless(reason: str) -> bool:
    """Sending again cannot work: not a mobile, STOP (we must not), blocked."""
    return reason in ("not_mobile", "stop", "blocked")


def slot_passed(template: str, appt_date: date | None, slot: str | None, appt_status: str | None,
                now: datetime, tz: str) -> bool:
    """A reminder for an appointment already over (or cancelled, or done) must not go again."""
    if appt_date is None or not template.startswith("appt.reminder"):
        return False
    if appt_status in ("cancelled", "done", "missed"):
        return True
    return as_utc(now) >= slot_window(slot, appt_date, tz)[1]
