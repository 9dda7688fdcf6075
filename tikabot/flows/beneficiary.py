"""The beneficiary flow (CONTRACT section 6, beneficiary replies) as one pure step.

    step(state, text, facts, now) -> (state, replies, effects)

Everyone who is not registered staff comes here: a beneficiary's phone, or a stranger. There is
no multi-message conversation, so state is always None. The loop guard (at most 5 automatic
replies per 10 minutes) is the runner's: it needs a counter. Diagram: beneficiary.mmd.
"""
from __future__ import annotations

from datetime import datetime

from tikabot.flows.effects import Reply, SetAppointmentStatus, SetLanguage, SetOptOut
from tikabot.flows.facts import SenderFacts
from tikabot.flows.parse import Parsed, parse
from tikabot.i18n.dates import Day, Slot

Step = tuple[dict | None, list[Reply], list]


def appointment_params(appt, today) -> dict:
    """When and where, as the reader says it: 'today'/'tomorrow' in words, the slot by the clock."""
    return {"date": Day(appt.date, today), "slot": Slot(appt.slot), "site": appt.site_name}


def _help(facts: SenderFacts) -> Reply:
    appt = facts.beneficiary.next_appointment if facts.beneficiary else None
    return Reply("ben.help", appointment_params(appt, facts.today)) if appt else Reply("ben.help_no_appt")


def step(state: dict | None, text: str, facts: SenderFacts, now: datetime, parsed: Parsed | None = None) -> Step:
    parsed = parsed or parse(text)  # the runner's parse of `text`: parsed once on its way through
    ben = facts.beneficiary
    appt = ben.next_appointment if ben else None
    keyword = parsed.keyword
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
