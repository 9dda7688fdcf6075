"""The beneficiary flow (CONTRACT section 6, beneficiary replies) as one pure step.

    step(state, text, facts, now) -> (state, replies, effects)

Everyone who is not registered staff comes here: a beneficiary's phone, or a stranger. There is
no multi-message conversation, so state is always None. The loop guard (at most 5 automatic
replies per 10 minutes) is the runner's: it needs a counter. Diagram: beneficiary.mmd.

Cancelling takes a cancel word on its own (NO, CANCEL, না, বাতিল, नहीं, रद्द): a bare "2" is also a
dose number (someone booked for dose 2 answering "2" meant no cancel), and "No problem, I will come"
starts with NO. Either keeps the appointment and says how to cancel (ben.cancel_how). The USSD menu
cancels only after its own "1 to cancel" screen.
"""
from __future__ import annotations

from datetime import datetime

from tikabot.flows.effects import Reply, SetAppointmentStatus, SetLanguage, SetOptOut
from tikabot.flows.facts import SenderFacts
from tikabot.flows.parse import Parsed, parse
from tikabot.i18n.dates import Day, Slot

Step = tuple[dict | None, list[Reply], list]
AMBIGUOUS_CANCEL = ("2",)  # the booking SMS once said "2 to cancel"; "2" is also a dose number


def appointment_params(appt, today) -> dict:
    """When and where, as the reader says it: 'today'/'tomorrow' in words, the slot by the clock."""
    return {"date": Day(appt.date, today), "slot": Slot(appt.slot), "site": appt.site_name}


def _help(facts: SenderFacts) -> Reply:
    appt = facts.beneficiary.next_appointment if facts.beneficiary else None
    return Reply("ben.help", appointment_params(appt, facts.today)) if appt else Reply("ben.help_no_appt")


def may_mean_cancel(parsed: Parsed) -> bool:
    """A bare "2", or a cancel word followed by more words: never cancels, only tells how to."""
    return (parsed.keyword == "NO" and bool(parsed.args)) or (
        parsed.keyword is None and parsed.words == AMBIGUOUS_CANCEL)


def step(state: dict | None, message: Parsed | str, facts: SenderFacts, now: datetime) -> Step:
    """message: an SMS's text, or the command parsed from it or built by a USSD menu (parse.command)."""
    parsed = message if isinstance(message, Parsed) else parse(message)
    ben = facts.beneficiary
    appt = ben.next_appointment if ben else None
    keyword = parsed.keyword
    if appt is not None and may_mean_cancel(parsed):
        return None, [Reply("ben.cancel_how", {"date": appt.date})], []
    if keyword in ("YES", "NO"):
        if appt is None:
            return None, [Reply("ben.no_appointment")], []
        if keyword == "YES":
            return None, [Reply("ben.confirmed", appointment_params(appt, facts.today))], [
                SetAppointmentStatus(appt.id, "confirmed")]
        return None, [Reply("ben.cancelled", {"date": appt.date})], [
            SetAppointmentStatus(appt.id, "cancelled")]
    if keyword == "STOP":
        return None, [Reply("ben.opted_out")], [SetOptOut(ben.id, True)] if ben else []
    if keyword == "START" and not parsed.args:
        return None, [Reply("ben.opted_in")], [SetOptOut(ben.id, False)] if ben else []
    if keyword == "LANG" and parsed.lang:
        lang = parsed.lang.lower()
        effects = [SetLanguage("beneficiary", ben.id, lang)] if ben else []
        return None, [Reply("ben.lang_set", lang=lang)], effects
    return None, [_help(facts)], []
