"""The staff flow (CONTRACT section 6, staff commands) as one pure step.

    step(state, command, facts, now) -> (state, replies, effects)

`command` is the structured command (flows/parse.py Parsed): an SMS parses its text into it once,
a USSD menu builds it from the choices made (parse.command). Text is accepted too and parsed.

`state` is None or a small JSON-able dict for the guided DOSE conversation (what is known so far,
what was asked, when it expires). `facts` is everything the step may know (see facts.py). Nothing
here touches Redis or a database; the runner loads facts and applies effects. Diagram: staff.mmd.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from tikabot.flows import course, vaccines
from tikabot.flows.effects import (
    CheckOtp, CloseSession, IssueOtp, OpenSession, RecordAefi, RecordDose, Recipient, Reply, SetLanguage, VoidDose,
)
from tikabot.flows.facts import StaffFacts
from tikabot.flows.keywords import staff_keyword
from tikabot.flows.parse import HYPHENS, MAX_LOT, REF, Parsed, join_vaccine_names, parse

GUIDED_MINUTES = 10
UNDO_MINUTES = 15
VERIFIER_COMMANDS = ("VERIFY", "OTP", "AEFI", "COUNT", "HELP", "LANG")  # CONTRACT section 6: roles
Step = tuple[dict | None, list[Reply], list]

ERROR_REPLIES = {  # parser error -> reply key (others get the command's usage)
    "bad_ref": "staff.bad_ref",
    "bad_dose": "staff.bad_dose_number",
    "unknown_vaccine": "staff.unknown_vaccine",
    "bad_lot": "staff.bad_lot",
    "unknown_command": "staff.unknown_command",
    "empty": "staff.unknown_command",
}


def _ref_token(words: tuple[str, ...]) -> str | None:
    for token in words:
        digits = HYPHENS.sub("", token)
        if REF.fullmatch(digits):
            return digits
    return None


def _live_state(state: dict | None, now: datetime) -> tuple[dict | None, bool]:
    """(state if still valid, True if it had expired)."""
    if not state:
        return None, False
    if datetime.fromisoformat(state["expires"]) <= now:
        return None, True
    return state, False


def as_command(message: Parsed | str) -> Parsed:
    """The command: an SMS's text parsed (parse caches it), or the command given as it is."""
    return message if isinstance(message, Parsed) else parse(message)


def wanted_ref(state: dict | None, message: Parsed | str, now: datetime) -> str | None:
    """The REF whose beneficiary the runner should load before calling step."""
    parsed = as_command(message)
    if parsed.ref:
        return parsed.ref
    state, _ = _live_state(state, now)
    if state and parsed.keyword is None:
        return state.get("ref") or (_ref_token(parsed.words) if state.get("ask") == "ref" else None)
    return None


def step(state: dict | None, message: Parsed | str, facts: StaffFacts, now: datetime) -> Step:
    """message: an SMS's text, or the command parsed from it (parse.parse) or built by a menu
    (parse.command). Both channels take this one step: same validations, same effects."""
    parsed = as_command(message)
    state, expired = _live_state(state, now)
    if parsed.keyword is None:
        if state:
            return _answer(state, parsed.words, facts, now)
        if expired:
            return None, [Reply("staff.guided_expired")], []
    return _command(parsed, facts, now)


def _usage(parsed: Parsed) -> Reply:
    return Reply("staff.usage", {"usage": Reply(parsed.usage)})


def _error(parsed: Parsed) -> Reply:
    key = ERROR_REPLIES.get(parsed.error or "")
    if key == "staff.bad_ref":
        raw = parsed.args[0] if parsed.args else ""
        if parsed.keyword == "DOSE" and len(parsed.args) > 1 and not REF.fullmatch(HYPHENS.sub("", raw)):
            raw = next((a for a in parsed.args if any(c.isdigit() for c in a)), raw)
        return Reply(key, {"ref": raw})
    if key == "staff.bad_dose_number":
        return Reply(key, {"dose": parsed.dose})
    if key == "staff.unknown_vaccine":
        return Reply(key, {"vaccine": parsed.vaccine, "known": _known()})
    if key == "staff.bad_lot":
        return Reply(key, {"max": MAX_LOT})
    return Reply(key) if key else _usage(parsed)


def _known() -> str:
    return ", ".join(v.name for v in vaccines.known())


def may_send(role: str, keyword: str | None) -> bool:
    """Verifiers verify, report side effects and may ask; vaccinators and coordinators send everything."""
    return role != "verifier" or keyword not in COMMANDS or keyword in VERIFIER_COMMANDS


def _refused(keyword: str) -> Reply:
    return Reply("staff.not_allowed", {"command": keyword})  # the catalog lists VERIFIER_COMMANDS


def _command(parsed: Parsed, facts: StaffFacts, now: datetime) -> Step:
    keyword = staff_keyword(parsed.keyword, parsed.words[0] if parsed.words else "")
    if not may_send(facts.role, keyword):
        return None, [_refused(keyword)], []
    if keyword == "DOSE" and parsed.error == "missing_ref":
        return _dose({}, facts, now)
    if parsed.error and not (keyword == "START" and parsed.error == "missing_vaccine" and not parsed.args):
        return None, [_error(parsed)], []
    handler = COMMANDS.get(keyword or "")
    if handler is None:
        return None, [Reply("staff.help")], []  # YES/NO/STOP from staff: show what staff can send
    return handler(parsed, facts, now)


# ---- DOSE, guided or in one message

def _cmd_dose(parsed: Parsed, facts: StaffFacts, now: datetime) -> Step:
    return _dose({"ref": parsed.ref, "dose": parsed.dose, "vaccine": parsed.vaccine, "lot": parsed.lot,
                  "elsewhere": parsed.elsewhere}, facts, now)


def _ask(known: dict, ask: str, reply: Reply, now: datetime) -> Step:
    expires = (now + timedelta(minutes=GUIDED_MINUTES)).isoformat()
    return {"flow": "dose", **known, "ask": ask, "expires": expires}, [reply], []


def _answer(state: dict, words: tuple[str, ...], facts: StaffFacts, now: datetime) -> Step:
    known = {k: state.get(k) for k in ("ref", "dose", "vaccine", "lot", "elsewhere")}
    ask = state.get("ask")
    if ask == "ref":
        ref = _ref_token(words)
        if ref is None:
            return _ask(known, "ref", Reply("staff.bad_ref", {"ref": " ".join(words)}), now)
        known["ref"] = ref
    elif ask == "vaccine":
        words = join_vaccine_names(words)  # "SPUTNIK V L1"
        found = vaccines.resolve(words[0]) if words else None
        if found is None:
            return _ask(known, "vaccine", Reply("staff.unknown_vaccine",
                                               {"vaccine": " ".join(words), "known": _known()}), now)
        known["vaccine"] = found.name
        if len(words) > 1:
            known["lot"] = words[1]
    elif ask == "lot":
        if not words:
            return _ask(known, "lot", Reply("staff.ask_lot"), now)
        known["lot"] = words[0]
    if len(known.get("lot") or "") > MAX_LOT:
        return _ask({**known, "lot": None}, "lot", Reply("staff.bad_lot", {"max": MAX_LOT}), now)
    return _dose(known, facts, now)


def _dose(known: dict, facts: StaffFacts, now: datetime) -> Step:
    if not known.get("ref"):
        return _ask(known, "ref", Reply("staff.ask_ref"), now)
    ben = facts.beneficiary
    ref = known["ref"]
    if ben is None or ben.ref != ref:
        return None, [Reply("staff.unknown_ref", {"ref": ref})], []
    if facts.site_id is None:
        return None, [Reply("staff.no_site")], []
    today_dose = next((d for d in ben.doses if not d.voided and d.day == facts.today), None)
    if known.get("dose") is None and today_dose is not None:  # "DOSE <REF>" sent twice
        return None, [Reply("staff.dose_duplicate", {"ref": ref, "dose": today_dose.dose_number})], []
    first = ben.live_dose(1)
    started = vaccines.resolve(first.vaccine) if first else None
    number = known.get("dose") or _next_due(ben)
    if started and number > started.doses:
        if known.get("dose") is None:
            return None, [Reply("staff.all_doses_done", {"ref": ref})], []
        return None, [Reply("staff.bad_dose_number", {"dose": number})], []
    if ben.live_dose(number):
        return None, [Reply("staff.dose_duplicate", {"ref": ref, "dose": number})], []
    missing = course.missing_before(number, ben.on_record())
    if missing and not known.get("elsewhere"):  # dose 2 needs dose 1, or a word that it was given elsewhere
        return None, [Reply("staff.earlier_dose_missing", {"ref": ref, "dose": number,
                                                           "missing": course.numbers(missing)})], []
    known["dose"] = number
    session = facts.session if facts.session and facts.session.open else None
    vaccine = known.get("vaccine") or (session.vaccine if session else None)
    if vaccine is None:
        return _ask(known, "vaccine", Reply("staff.ask_vaccine"), now)
    lot = known.get("lot") or (session.lot if session and session.vaccine == vaccine else None)
    if lot is None:
        return _ask({**known, "vaccine": vaccine}, "lot", Reply("staff.ask_lot"), now)
    refused = _course_refusal(ben, number, vaccine, facts.today)
    if refused is not None:
        return None, [refused], []
    effect = RecordDose(beneficiary_id=ben.id, ref=ref, dose_number=number, vaccine=vaccine, lot=lot,
                        site_id=facts.site_id, confirm_to=Recipient(ben.first_name, ben.phone, ben.language),
                        needs_reconciliation=bool(missing), missing=missing, on_record=ben.on_record())
    params = {"ref": ref, "name": ben.first_name, "dose": number, "vaccine": vaccine, "lot": lot,
              "count": facts.total_today + 1}
    if missing:
        reply = Reply("staff.dose_recorded_elsewhere", {**params, "missing": course.numbers(missing)})
    elif ben.site_id is not None and ben.site_id != facts.site_id:
        reply = Reply("staff.dose_recorded_other_site", {**params, "booked_site": ben.site_name})
    else:
        reply = Reply("staff.dose_recorded", params)
    return None, [reply], [effect]


def _course_refusal(ben, number: int, vaccine: str, today) -> Reply | None:
    """Why this dose cannot follow the ones on record: beyond the course, another vaccine than the
    dose before, or before the interval; None when it can."""
    rule = vaccines.resolve(vaccine)
    if rule and number > rule.doses:
        return Reply("staff.bad_dose_number", {"dose": number})
    previous = ben.live_dose(number - 1) if number > 1 else None
    if previous is None:
        return None
    if previous.vaccine != vaccine:
        return Reply("staff.wrong_vaccine", {"ref": ben.ref, "vaccine": previous.vaccine})
    before = vaccines.resolve(previous.vaccine)
    due = previous.day + timedelta(days=before.min_interval_days if before else 0)
    if today < due:
        return Reply("staff.dose2_too_early", {"ref": ben.ref, "due_date": due})
    return None


def _next_due(ben) -> int:
    number = 1
    while ben.live_dose(number):
        number += 1
    return number


# ---- the other commands

def _cmd_start(parsed: Parsed, facts: StaffFacts, now: datetime) -> Step:
    if facts.site_id is None:
        return None, [Reply("staff.no_site")], []
    if parsed.vaccine is None:
        return None, [_usage(parsed)], []
    session = facts.session
    if session and session.open:
        return None, [Reply("staff.session_already_open", {"vaccine": session.vaccine, "lot": session.lot})], []
    reply = Reply("staff.session_started", {"vaccine": parsed.vaccine, "lot": parsed.lot, "due": facts.due_today})
    return None, [reply], [OpenSession(site_id=facts.site_id, vaccine=parsed.vaccine, lot=parsed.lot)]


def _cmd_undo(parsed: Parsed, facts: StaffFacts, now: datetime) -> Step:
    """A bare UNDO voids the sender's last dose, once; UNDO <REF> voids that person's latest dose."""
    if parsed.ref:
        return _undo_ref(parsed.ref, facts, now)
    last, void = facts.last_dose, facts.last_void
    if void is not None and (last is None or void.voided_at >= last.created_at):  # a second bare UNDO
        return None, [Reply("staff.undo_ask_ref", {"ref": void.ref, "dose": void.dose_number})], []
    if last is None:
        return None, [Reply("staff.undo_nothing")], []
    return _undo(last.id, last.ref, last.dose_number, last.created_at, now)


def _undo(dose_id: int, ref: str, number: int, created_at: datetime | None, now: datetime) -> Step:
    if created_at is None or now - created_at > timedelta(minutes=UNDO_MINUTES):
        return None, [Reply("staff.undo_too_late", {"minutes": UNDO_MINUTES})], []
    return None, [Reply("staff.undo_done", {"ref": ref, "dose": number})], [VoidDose(dose_id)]


def _undo_ref(ref: str, facts: StaffFacts, now: datetime) -> Step:
    ben = facts.beneficiary
    if ben is None or ben.ref != ref:
        return None, [Reply("staff.unknown_ref", {"ref": ref})], []
    dose = ben.latest_live_dose()
    if dose is None:
        return None, [Reply("staff.undo_no_dose", {"ref": ref})], []
    if dose.recorded_by != facts.phone and (facts.site_id is None or dose.site_id != facts.site_id):
        return None, [Reply("staff.undo_other_site", {"ref": ref, "dose": dose.dose_number})], []
    return _undo(dose.id, ref, dose.dose_number, dose.created_at, now)


def _known_beneficiary(parsed: Parsed, facts: StaffFacts):
    ben = facts.beneficiary
    return ben if ben is not None and ben.ref == parsed.ref else None


def _cmd_verify(parsed: Parsed, facts: StaffFacts, now: datetime) -> Step:
    ben = _known_beneficiary(parsed, facts)
    if ben is None:
        return None, [Reply("staff.unknown_ref", {"ref": parsed.ref})], []
    return None, [], [IssueOtp(beneficiary_id=ben.id, ref=ben.ref)]  # the OTP service picks the reply


def _cmd_otp(parsed: Parsed, facts: StaffFacts, now: datetime) -> Step:
    ben = _known_beneficiary(parsed, facts)
    if ben is None:
        return None, [Reply("staff.unknown_ref", {"ref": parsed.ref})], []
    return None, [], [CheckOtp(beneficiary_id=ben.id, ref=ben.ref, name=ben.first_name, code=parsed.code)]


def _tally(facts: StaffFacts) -> dict:
    dose1, dose2 = facts.doses_today.get(1, 0), facts.doses_today.get(2, 0)
    return {"site": facts.site_name, "dose1": dose1, "dose2": dose2, "total": facts.total_today}


def _cmd_count(parsed: Parsed, facts: StaffFacts, now: datetime) -> Step:
    if facts.site_id is None:
        return None, [Reply("staff.no_site")], []
    tally = _tally(facts)
    remaining = max(facts.due_today - tally["total"], 0)
    return None, [Reply("staff.count", {**tally, "due": facts.due_today, "remaining": remaining})], []


def _cmd_end(parsed: Parsed, facts: StaffFacts, now: datetime) -> Step:
    session = facts.session
    if session is None or not session.open:
        return None, [Reply("staff.no_open_session_to_end")], []
    tally = _tally(facts)
    effect = CloseSession(session_id=session.id, site_name=facts.site_name, dose1=tally["dose1"],
                          dose2=tally["dose2"], total=tally["total"])
    return None, [Reply("staff.session_closed", tally)], [effect]


def _cmd_aefi(parsed: Parsed, facts: StaffFacts, now: datetime) -> Step:
    ben = _known_beneficiary(parsed, facts)
    if ben is None:
        return None, [Reply("staff.unknown_ref", {"ref": parsed.ref})], []
    effect = RecordAefi(beneficiary_id=ben.id, ref=ben.ref, severity=parsed.severity, note=parsed.note or "",
                        site_id=facts.site_id, site_name=facts.site_name)
    reply = Reply("staff.aefi_recorded", {"ref": ben.ref, "severity": Reply(f"severity.{parsed.severity}")})
    return None, [reply], [effect]


def _cmd_lang(parsed: Parsed, facts: StaffFacts, now: datetime) -> Step:
    lang = parsed.lang.lower()
    return None, [Reply("staff.lang_set", lang=lang)], [SetLanguage("staff", facts.staff_id, lang)]


def _cmd_help(parsed: Parsed, facts: StaffFacts, now: datetime) -> Step:
    """The commands, then (a second SMS, so each stays short) the same words in the reader's language."""
    return None, [Reply("staff.help"), Reply("staff.help_words")], []


COMMANDS = {
    "START": _cmd_start, "DOSE": _cmd_dose, "UNDO": _cmd_undo, "VERIFY": _cmd_verify, "OTP": _cmd_otp,
    "COUNT": _cmd_count, "END": _cmd_end, "AEFI": _cmd_aefi, "LANG": _cmd_lang, "HELP": _cmd_help,
}
