"""USSD menus for beneficiaries and staff (issue 7) as one pure step.

    step(state, inputs, facts) -> Step(state, screen, effects, done)

`inputs` is every input of the gateway session so far; `state["seen"]` says how many were
handled, and one step handles the next one (the runner calls it until all are seen). `screen` is
the text to show (without the gateway's CON/END); `done` ends the session. Effects are the very
ones the SMS flows return, applied by the runner through runner/apply.py; the decisions (dose
validations, what UNDO may void, what YES confirms) are the SMS flows' own: a menu builds the
structured command its choices stand for (parse.command: DOSE with ref, dose, vaccine, lot) and
calls the same flow step an SMS reaches. No SMS text is built and parsed again, so any vaccine of
the vaccines file, spaces and all ("SPUTNIK V"), is the name the menu showed. When an effect's outcome is only known after applying it (a code sent or
refused, a code checked, a dose another message recorded first), `outcome()` picks the screen.

Every screen is one catalog key plus a navigation line in the reader's language (`0 পিছনে`,
`00 मेनू`, `98 More`): the keys to press stay ASCII. Diagram: ussd_menus.mmd.

A USSD string is at most 160 octets: 182 GSM-7 characters but only 80 UCS-2 ones, which every
Bengali and Hindi screen is (tikabot/i18n/limits.py). A screen longer than that is shown in pages,
as operators' own menus do: each page ends with `98 আরও`/`98 और`/`98 More`, 98 shows the next,
and the last page carries the screen's own choices (`pages()`; `step` keeps the pages still to
show in the session state). A screen that ends the session ends it after its last page.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NamedTuple

from tikabot.flows import beneficiary as ben_flow
from tikabot.flows import staff as staff_flow
from tikabot.flows.effects import IssueOtp, RecordAefi, RecordDose, Reply, SetLanguage, VoidDose
from tikabot.flows.facts import SenderFacts, StaffFacts
from tikabot.flows.ordinals import dose_number
from tikabot.flows.parse import HYPHENS, REF, Parsed, command
from tikabot.i18n.catalog import LANGUAGES, localize, render
from tikabot.i18n.dates import Day, Slot
from tikabot.i18n.digits import ascii_digits
from tikabot.i18n.encoding import sms_info
from tikabot.i18n.limits import USSD_CHARS, ussd_limit

MAX_SCREEN = 182 - 4  # the gateway's limit less the "CON "/"END " prefix (GSM-7 screens)
MAX_UCS2_SCREEN = USSD_CHARS["UCS-2"] - 4  # 80 with the prefix (CONTRACT.md): a Bengali or Hindi screen
BACK, MENU, MORE = "0", "00", "98"
NAV_BACK, NAV_MENU, NAV_MORE = "0 Back", "00 Menu", "98 More"  # English; nav() gives each language's
HEADER_BUDGET = 40  # characters kept for the header above a list
LANGUAGE_CHOICES = {"1": "en", "2": "bn", "3": "hi"}
SEVERITY_CHOICES = {"1": "MINOR", "2": "SEVERE"}
# what the beneficiary felt, as the note coordinators and medical officers read (ussd.aefi_note lists them)
ELSEWHERE = "elsewhere"  # the note after "no dose 1 on record": 1 records it as given elsewhere
NOTE_CHOICES = {"1": "fainting", "2": "breathing difficulty", "3": "rash", "4": "fever", "5": "other"}

# SMS flow reply -> USSD screen with the same params (the SMS wording tells people what to send)
SCREEN_FOR = {
    "staff.dose_recorded": "ussd.dose_recorded",
    "staff.dose_recorded_other_site": "ussd.dose_recorded_other_site",
    "staff.dose_duplicate": "ussd.dose_duplicate",
    "staff.unknown_ref": "ussd.unknown_ref",
    "staff.dose2_too_early": "ussd.dose2_too_early",
    "staff.wrong_vaccine": "ussd.wrong_vaccine",
    "staff.bad_dose_number": "ussd.bad_dose",
    "staff.all_doses_done": "ussd.all_doses_done",
    "staff.no_site": "ussd.no_site",
    "staff.count": "ussd.count",
    "staff.undo_done": "ussd.undo_done",
    "staff.undo_nothing": "ussd.undo_nothing",
    "staff.undo_too_late": "ussd.undo_too_late",
    "staff.undo_ask_ref": "ussd.undo_ask_ref",
    "staff.earlier_dose_missing": "ussd.earlier_dose_missing",
    "staff.dose_recorded_elsewhere": "ussd.dose_recorded_elsewhere",
    "staff.not_allowed": "ussd.not_allowed",
    "ben.confirmed": "ussd.confirmed",
    "ben.cancelled": "ussd.cancelled",
    "ben.no_appointment": "ussd.no_appointment",
}
# an effect's outcome (runner/apply.py reply) -> (screen key, what follows) per role
OUTCOMES = {
    ("staff", "staff.dose_duplicate"): ("ussd.dose_duplicate", "note"),
    ("staff", "staff.verify_sent"): ("ussd.code_sent", "verify_code"),
    ("staff", "staff.verify_limited"): ("ussd.verify_limited", "verify_code"),
    ("staff", "staff.otp_ok"): ("ussd.otp_ok", "end"),
    ("staff", "staff.otp_wrong"): ("ussd.otp_wrong", "verify_code"),
    ("staff", "staff.otp_locked"): ("ussd.otp_locked", "end"),
    ("staff", "staff.otp_expired"): ("ussd.otp_expired", "verify_action"),
    ("staff", "staff.otp_none"): ("ussd.otp_none", "verify_action"),
    ("ben", "staff.verify_sent"): ("ussd.ben_code_sent", "end"),
    ("ben", "staff.verify_limited"): ("ussd.ben_code_limited", "end"),
    ("ben", "staff.aefi_severe_alerted"): ("ussd.aefi_severe_alerted", "end"),
    ("ben", "staff.aefi_severe_nobody"): ("ussd.aefi_severe_nobody", "end"),
}

# screens that end the session: shown without a navigation line (templates check measures them so)
END_SCREENS = frozenset({"ussd.not_registered", "ussd.no_appointment", "ussd.confirmed", "ussd.cancelled",
                         "ussd.aefi_minor", "ussd.aefi_severe", "ussd.expired", "ussd.busy", "ussd.error",
                         "ussd.bad_request"} | {key for key, then in OUTCOMES.values() if then == "end"})

@dataclass(frozen=True)
class MenuFacts:
    """What a menu step may know: the staff facts (staff phone) or the sender facts (anyone else)."""
    now: datetime
    language: str
    staff: StaffFacts | None = None
    sender: SenderFacts | None = None
    vaccines: tuple[str, ...] = field(default_factory=tuple)

    @property
    def role(self) -> str:
        return "staff" if self.staff is not None else "ben"

    @property
    def beneficiary(self):
        return self.sender.beneficiary if self.sender else None


class Step(NamedTuple):
    state: dict
    screen: str | None  # None: the effects decide it (call outcome() with apply's replies)
    effects: list
    done: bool


@dataclass
class _Move:
    """What an input does: stay (with a prompt), go to a screen, show a note, or end."""
    go: str | None = None
    data: dict = field(default_factory=dict)
    prompt: tuple[str, dict] | None = None  # replaces the screen's own text once
    note: tuple[str, dict] | None = None  # a message screen (0 Back, 00 Menu)
    next: str | None = None  # "1" on the note goes there
    end: tuple[str, dict] | None = None
    effects: list = field(default_factory=list)
    reset: bool = False  # the stack goes back to the main menu first
    pending: bool = False  # the effects' outcome decides the screen
    lang: str | None = None


def new_state() -> dict:
    return {"seen": 0, "stack": ["main"], "data": {}, "lang": None}


def language(state: dict, facts: MenuFacts) -> str:
    return state.get("lang") or (facts.language if facts.language in LANGUAGES else "en")


def wanted_ref(state: dict | None, inputs: list[str]) -> str | None:
    """The REF whose beneficiary the runner should load before calling step."""
    if not state:
        return None
    screen = state["stack"][-1]
    if screen in ("dose_ref", "verify_ref") and state["seen"] < len(inputs):
        return _ref(inputs[state["seen"]])
    return state["data"].get("ref")


def _ref(value: str) -> str | None:
    digits = HYPHENS.sub("", ascii_digits(value.strip()))
    return digits if REF.fullmatch(digits) else None


# ---- rendering

def _fit(lines: list[str]) -> str:
    return "\n".join(line for line in lines if line)


def fits(screen: str) -> bool:
    """True when screen fits one USSD string with the gateway's CON/END before it: 182 GSM-7
    characters, 80 UCS-2 characters (CONTRACT.md), so 178 and 76 for the screen itself."""
    return sms_info(screen).units <= ussd_limit(screen) - 4


def pages(screen: str, lang: str) -> list[str]:
    """screen cut at spaces and line breaks into pages that each fit, every page but the last
    ending with the "98 More" line in lang; [screen] when it fits as it is."""
    if fits(screen):
        return [screen]
    more = "\n" + nav(lang, "more")
    out, current = [], ""
    for word in _words(screen):
        candidate = current + word
        if current and not fits(candidate.rstrip() + more):
            head, cut, tail = current.rpartition("\n")  # a menu is cut between its lines
            if not cut or len(head) < len(current) // 2:
                head, tail = current, ""
            out.append(head.rstrip() + more)
            current = tail + word.lstrip() if tail else word.lstrip()
        else:
            current = candidate
    return out + [current.rstrip()]


def _words(text: str) -> list[str]:
    """text split after each space or line break, the separators kept: "".join(...) == text."""
    out, current = [], ""
    for ch in text:
        current += ch
        if ch in " \n":
            out.append(current)
            current = ""
    return out + ([current] if current else [])


def _shown(name: str, value, lang: str):
    if isinstance(value, Reply):
        return render(value.key, lang, **value.params)
    shown = localize(name, value, lang)
    return shown if isinstance(shown, (str, int, float)) or shown is None else str(shown)


def _text(key: str, params: dict, lang: str) -> str:
    params = {k: render(v.key, lang, **v.params) if isinstance(v, Reply) else v for k, v in params.items()}
    return render(key, lang, **params)


def nav(lang: str, *names: str) -> str:
    """The navigation line in lang: nav(lang, "back", "menu") -> "0 Back 00 Menu" / "0 পিছনে 00 মেনু"."""
    return " ".join(render(f"ussd.nav_{name}", lang) for name in names)


def vaccine_page(header: str, names: tuple[str, ...], page: int,
                 lang: str = "en") -> tuple[str, list[tuple[str, str]]]:
    """One page of the vaccine list: (screen, [(choice, name)]); as many as fit, then 98 More.

    Pages are cut the same way in every language (the header and the navigation line get the
    budget of the longest language), so a choice number means the same vaccine whatever the
    screen's language."""
    sizes = _page_sizes(names)
    start = sum(sizes[:page])
    size = sizes[page] if page < len(sizes) else 0
    shown = [(str(start + i + 1), name) for i, name in enumerate(names[start:start + size])]
    line = nav(lang, "back", "more") if start + size < len(names) else nav(lang, "back")
    return _fit([header[:HEADER_BUDGET], *(f"{c} {n}" for c, n in shown), line]), shown


def _page_sizes(names: tuple[str, ...]) -> list[int]:
    # a Bengali or Hindi page is UCS-2: the same cut in every language, so 80 characters
    header = max(len(render("ussd.pick_vaccine", lang)) for lang in LANGUAGES)
    budget = MAX_UCS2_SCREEN - header - 1 - max(len(nav(lang, "back", "more")) for lang in LANGUAGES)
    sizes, i = [], 0
    while i < len(names):
        used, count = 0, 0
        while i + count < len(names) and used + len(f"{i + count + 1} {names[i + count]}") + 1 <= budget:
            used, count = used + len(f"{i + count + 1} {names[i + count]}") + 1, count + 1
        sizes.append(max(count, 1))
        i += max(count, 1)
    return sizes


def _show(state: dict, facts: MenuFacts, prompt: tuple[str, dict] | None = None) -> str:
    lang, data, name = language(state, facts), state["data"], state["stack"][-1]
    back = nav(lang, "back") if len(state["stack"]) > 1 else ""
    if name == "note":
        key, params = data["note"]
        follow = ""
        if data.get("next") == "dose_ref":
            follow = render("ussd.next_dose", lang)
        elif data.get("next") == ELSEWHERE:
            follow = _text("ussd.record_elsewhere", {k: params[k] for k in ("dose", "missing")}, lang)
        return _fit([_text(key, params, lang), follow, nav(lang, "back", "menu")])
    if name == "dose_vaccine":
        header = _text(*(prompt or ("ussd.pick_vaccine", {})), lang)
        return vaccine_page(header, facts.vaccines, data.get("page", 0), lang)[0]
    key, params = prompt or _SCREEN_TEXT[name](data, facts)
    return _fit([_text(key, params, lang), back])


def _main_text(data: dict, facts: MenuFacts) -> tuple[str, dict]:
    if facts.staff is not None:
        return ("ussd.verifier_menu" if facts.staff.role == "verifier" else "ussd.staff_menu"), {}
    return "ussd.ben_menu", {}


def _appointment_text(data: dict, facts: MenuFacts) -> tuple[str, dict]:
    ben = facts.beneficiary
    appt = ben.next_appointment
    return "ussd.appointment", {"name": ben.first_name, "date": Day(appt.date, facts.sender.today),
                                "slot": Slot(appt.slot), "site": appt.site_name}


_SCREEN_TEXT = {
    "main": _main_text,
    "lang": lambda data, facts: ("ussd.lang_menu", {}),
    "appointment": _appointment_text,
    "cancel_ask": lambda data, facts: ("ussd.cancel_ask", {"date": date.fromisoformat(data["date"])}),
    "aefi": lambda data, facts: ("ussd.aefi_ask", {}),
    "aefi_note": lambda data, facts: ("ussd.aefi_note", {}),
    "dose_ref": lambda data, facts: ("ussd.ask_ref", {}),
    "dose_num": lambda data, facts: ("ussd.ask_dose", {k: data[k] for k in ("ref", "name", "next_dose")}),
    "dose_lot": lambda data, facts: ("ussd.ask_lot", {}),
    "dose_confirm": lambda data, facts: ("ussd.confirm_dose",
                                         {k: data[k] for k in ("ref", "name", "dose", "vaccine", "lot")}),
    "undo_confirm": lambda data, facts: ("ussd.undo_ask", {"ref": data["undo_ref"], "dose": data["undo_dose"]}),
    "verify_ref": lambda data, facts: ("ussd.ask_ref", {}),
    "verify_action": lambda data, facts: ("ussd.verify_menu", {"ref": data["ref"], "name": data["name"]}),
    "verify_code": lambda data, facts: ("ussd.ask_code", {}),
}


# ---- the step

def step(state: dict | None, inputs: list[str], facts: MenuFacts) -> Step:
    """Handle the next unseen input (or open the main menu when nothing was sent yet); 98 on a
    paged screen shows its next page."""
    if state and state.get("pages") and state["seen"] < len(inputs):
        state = _copy(state)
        value = ascii_digits(inputs[state["seen"]].strip())
        if value == MORE:
            state["seen"] += 1
            screen, *rest = state["pages"]
            state["pages"] = rest
            return Step(state, screen, [], bool(state.get("pages_end")) and not rest)
        state["pages"], state["pages_end"] = [], False
    return _paged(_step(state, inputs, facts), facts)


def paging(state: dict | None, inputs: list[str]) -> bool:
    """True when the next input is 98 on a paged screen: step shows the next page, nothing else."""
    return bool(state and state.get("pages") and state["seen"] < len(inputs)
                and ascii_digits(inputs[state["seen"]].strip()) == MORE)


def ended(state: dict | None, inputs: list[str], screen: str, facts: MenuFacts) -> Step:
    """A screen that ends the session, decided outside the menus (a refusal), paged like any other."""
    state = _copy(state) if state else new_state()
    state["seen"] = len(inputs)
    return _paged(Step(state, screen, [], True), facts)


def _paged(result: Step, facts: MenuFacts) -> Step:
    """The step's screen as its first page, the others kept in the state for 98."""
    if result.screen is None:
        return result
    first, *rest = pages(result.screen, language(result.state, facts))
    if not rest:
        return result
    state = {**result.state, "pages": rest, "pages_end": result.done}
    return Step(state, first, result.effects, False)


def _step(state: dict | None, inputs: list[str], facts: MenuFacts) -> Step:
    state = _copy(state) if state else new_state()
    if state["seen"] >= len(inputs):
        return Step(state, _show(state, facts), [], False)
    value = ascii_digits(inputs[state["seen"]].strip())
    state["seen"] += 1
    if value == MENU:
        state["stack"], state["data"] = ["main"], {}
        return Step(state, _show(state, facts), [], False)
    if value == BACK and state["stack"][-1] != "main":
        state["stack"].pop()
        return Step(state, _show(state, facts), [], False)
    move = _HANDLERS[state["stack"][-1]](state["data"], value, facts)
    return _apply_move(state, move, facts)


def _copy(state: dict) -> dict:
    return {**state, "stack": list(state["stack"]), "data": dict(state["data"]), "pages": list(state.get("pages", []))}


def _apply_move(state: dict, move: _Move | None, facts: MenuFacts) -> Step:
    if move is None:  # not one of the choices shown: say so, when it fits, and show the screen again
        screen = _show(state, facts)
        hint = render("ussd.invalid", language(state, facts))
        return Step(state, f"{hint}\n{screen}" if fits(f"{hint}\n{screen}") else screen, [], False)
    if move.lang:
        state["lang"] = move.lang
    if move.reset:
        state["stack"], state["data"] = ["main"], {}
    state["data"].update(move.data)
    if move.end:
        return Step(state, _text(*move.end, language(state, facts)), move.effects, True)
    if move.pending:
        return Step(state, None, move.effects, False)
    if move.note:  # kept in the session's state (JSON): its params as the reader reads them
        key, params = move.note
        lang = language(state, facts)
        state["data"]["note"] = [key, {k: _shown(k, v, lang) for k, v in params.items()}]
        state["data"]["next"] = move.next
        state["stack"].append("note")
    elif move.go and move.go != state["stack"][-1]:
        state["stack"].append(move.go)
    return Step(state, _show(state, facts, move.prompt), move.effects, False)


def outcome(state: dict, replies: list[Reply], facts: MenuFacts) -> Step:
    """The screen after the runner applied a step's effects; replies are apply_effects' own."""
    return _paged(_outcome(state, replies, facts), facts)


def _outcome(state: dict, replies: list[Reply], facts: MenuFacts) -> Step:
    state = _copy(state)
    if not replies:  # nothing replaced: only RecordDose/SetAppointmentStatus reach here, already shown
        return Step(state, _show(state, facts), [], False)
    reply = replies[0]
    key, then = OUTCOMES[(facts.role, reply.key)]
    params = dict(reply.params)
    if then == "end":
        return Step(state, _text(key, params, language(state, facts)), [], True)
    if then == "note":
        return _apply_move(state, _Move(note=(key, params), next="dose_ref", reset=True), facts)
    while state["stack"][-1] != then and then in state["stack"]:
        state["stack"].pop()
    return _apply_move(state, _Move(go=then, prompt=(key, params)), facts)


# ---- main menus

def _main(data: dict, value: str, facts: MenuFacts) -> _Move | None:
    return (_staff_main if facts.staff else _ben_main)(data, value, facts)


def _ben_main(data: dict, value: str, facts: MenuFacts) -> _Move | None:
    ben = facts.beneficiary
    if value == "4":
        return _Move(go="lang")
    if value not in ("1", "2", "3"):
        return None
    if ben is None:
        return _Move(end=("ussd.not_registered", {}))
    if value == "1":
        appt = ben.next_appointment
        if appt is None:
            return _Move(end=("ussd.no_appointment", {}))
        return _Move(go="appointment", data={"date": appt.date.isoformat()})
    if value == "2":
        return _Move(effects=[IssueOtp(beneficiary_id=ben.id, ref=ben.ref)], pending=True)
    return _Move(go="aefi")


def _staff_main(data: dict, value: str, facts: MenuFacts) -> _Move | None:
    if value in ("1", "3") and not staff_flow.may_send(facts.staff.role, "DOSE"):
        return None  # a verifier's menu has no 1 Record dose, 3 Undo
    if value == "1":
        return _Move(go="dose_ref")
    if value == "2":
        return _from_flow(command("COUNT"), facts, reset=True)
    if value == "3":
        return _undo_preview(facts)
    if value == "4":
        return _Move(go="verify_ref")
    if value == "5":
        return _Move(go="lang")
    return None


def _from_flow(chosen: Parsed, facts: MenuFacts, reset: bool = False) -> _Move:
    """Run the staff flow on the chosen command and show its first reply as a note."""
    _, replies, effects = staff_flow.step(None, chosen, facts.staff, facts.now)
    reply = replies[0]
    return _Move(note=(SCREEN_FOR[reply.key], dict(reply.params)), effects=effects, reset=reset)


def _lang(data: dict, value: str, facts: MenuFacts) -> _Move | None:
    lang = LANGUAGE_CHOICES.get(value)
    if lang is None:
        return None
    effects = []
    if facts.staff is not None:
        effects = [SetLanguage("staff", facts.staff.staff_id, lang)]
    elif facts.beneficiary is not None:
        effects = [SetLanguage("beneficiary", facts.beneficiary.id, lang)]
    return _Move(lang=lang, effects=effects, reset=True)


# ---- beneficiary screens

def _ben_reply(chosen: Parsed, facts: MenuFacts) -> _Move:
    _, replies, effects = ben_flow.step(None, chosen, facts.sender, facts.now)
    reply = replies[0]
    return _Move(end=(SCREEN_FOR[reply.key], dict(reply.params)), effects=effects)


def _appointment(data: dict, value: str, facts: MenuFacts) -> _Move | None:
    if value == "1":
        return _ben_reply(command("YES"), facts)
    if value == "2":
        return _Move(go="cancel_ask")
    return None


def _cancel_ask(data: dict, value: str, facts: MenuFacts) -> _Move | None:
    return _ben_reply(command("NO"), facts) if value == "1" else None


def _aefi(data: dict, value: str, facts: MenuFacts) -> _Move | None:
    severity = SEVERITY_CHOICES.get(value)
    return None if severity is None else _Move(go="aefi_note", data={"severity": severity})


def _aefi_note(data: dict, value: str, facts: MenuFacts) -> _Move | None:
    """What they felt: recorded with the report. A SEVERE report's screen says what the runner did
    (how many people the SMS goes to) and always: the nearest hospital, or 108."""
    note = NOTE_CHOICES.get(value)
    ben = facts.beneficiary
    if note is None:
        return None
    severity = data["severity"]
    effect = RecordAefi(beneficiary_id=ben.id, ref=ben.ref, severity=severity, note=note, site_id=ben.site_id,
                        site_name=ben.site_name)
    screen = "ussd.aefi_minor" if severity == "MINOR" else "ussd.aefi_severe_nobody"
    return _Move(end=(screen, {}), effects=[effect])


# ---- staff: record a dose (REF -> dose -> [vaccine -> lot] -> confirm)

def _known_ref(value: str, facts: MenuFacts) -> tuple[dict | None, tuple[str, dict] | None]:
    """({ref, name, beneficiary}, None) or (None, the prompt saying what is wrong)."""
    ref = _ref(value)
    if ref is None:
        return None, ("ussd.bad_ref", {"ref": value[:20]})
    ben = facts.staff.beneficiary
    if ben is None or ben.ref != ref:
        return None, ("ussd.unknown_ref", {"ref": ref})
    return {"ref": ref, "name": ben.first_name}, None


def _dose_ref(data: dict, value: str, facts: MenuFacts) -> _Move:
    found, prompt = _known_ref(value, facts)
    if found is None:
        return _Move(prompt=prompt)
    ben = facts.staff.beneficiary
    number = next(n for n in range(1, 11) if ben.live_dose(n) is None)
    fresh = {"vaccine": None, "lot": None, "dose": None, "page": 0, "elsewhere": False}
    return _Move(go="dose_num", data={**found, **fresh, "next_dose": number})


def _dose_num(data: dict, value: str, facts: MenuFacts) -> _Move:
    number = dose_number(value)  # "2", or "2nd", "২য়", "दूसरी" typed on a phone that can
    if not number:
        return _Move(prompt=("ussd.bad_dose", {"dose": value[:3]}))
    return _preview({**data, "dose": number}, facts)


def _dose_command(data: dict) -> Parsed:
    """The dose report the choices so far stand for (what DOSE <REF> <dose> <vaccine> <lot> says by SMS)."""
    return command("DOSE", ref=data["ref"], dose=data["dose"], vaccine=data.get("vaccine"), lot=data.get("lot"),
                   elsewhere=bool(data.get("elsewhere")))


def _preview(data: dict, facts: MenuFacts) -> _Move:
    """What the SMS flow would do with this DOSE: ask for vaccine or lot, reject, or record (confirm first)."""
    asked, replies, effects = staff_flow.step(None, _dose_command(data), facts.staff, facts.now)
    known = {k: data.get(k) for k in ("dose", "vaccine", "lot", "page", "elsewhere")}
    if asked and asked.get("ask") == "vaccine":
        return _Move(go="dose_vaccine", data={**known, "page": 0})
    if asked and asked.get("ask") == "lot":
        return _Move(go="dose_lot", data={**known, "vaccine": asked.get("vaccine")})
    dose = next((e for e in effects if isinstance(e, RecordDose)), None)
    if dose is None:
        reply = replies[0]
        follow = ELSEWHERE if reply.key == "staff.earlier_dose_missing" else None
        return _Move(note=(SCREEN_FOR.get(reply.key, "ussd.not_recorded"), dict(reply.params)), data=known,
                     next=follow)
    return _Move(go="dose_confirm", data={**known, "vaccine": dose.vaccine, "lot": dose.lot})


def _dose_vaccine(data: dict, value: str, facts: MenuFacts) -> _Move | None:
    _, shown = vaccine_page("", facts.vaccines, data.get("page", 0))
    if value == MORE and int(shown[-1][0]) < len(facts.vaccines):
        return _Move(data={"page": data.get("page", 0) + 1})
    chosen = dict(shown).get(value)
    if chosen is None:
        return None
    return _preview({**data, "vaccine": chosen, "lot": None}, facts)


def _dose_lot(data: dict, value: str, facts: MenuFacts) -> _Move:
    lot = value.split()[0].upper()[:20] if value.split() else ""
    if not lot:
        return _Move(prompt=("ussd.ask_lot", {}))
    return _preview({**data, "lot": lot}, facts)


def _dose_confirm(data: dict, value: str, facts: MenuFacts) -> _Move | None:
    if value != "1":
        return None
    _, replies, effects = staff_flow.step(None, _dose_command(data), facts.staff, facts.now)
    reply = replies[0]
    key = SCREEN_FOR.get(reply.key, "ussd.not_recorded")
    return _Move(note=(key, dict(reply.params)), next="dose_ref" if effects else None, effects=effects, reset=True)


# ---- staff: undo, verify

def _undo_preview(facts: MenuFacts) -> _Move:
    _, replies, effects = staff_flow.step(None, command("UNDO"), facts.staff, facts.now)
    if not effects:
        return _Move(note=(SCREEN_FOR[replies[0].key], dict(replies[0].params)), reset=True)
    last = facts.staff.last_dose
    return _Move(go="undo_confirm", data={"undo_id": last.id, "undo_ref": last.ref, "undo_dose": last.dose_number})


def _undo_confirm(data: dict, value: str, facts: MenuFacts) -> _Move | None:
    if value != "1":
        return None
    _, replies, effects = staff_flow.step(None, command("UNDO"), facts.staff, facts.now)
    voids = [e for e in effects if isinstance(e, VoidDose)]
    if voids and voids[0].dose_id != data.get("undo_id"):  # another dose became the last meanwhile
        return _undo_preview(facts)
    return _Move(note=(SCREEN_FOR[replies[0].key], dict(replies[0].params)), effects=effects, reset=True)


def _verify_ref(data: dict, value: str, facts: MenuFacts) -> _Move:
    found, prompt = _known_ref(value, facts)
    return _Move(prompt=prompt) if found is None else _Move(go="verify_action", data=found)


def _verify_action(data: dict, value: str, facts: MenuFacts) -> _Move | None:
    if value == "1":
        _, _, effects = staff_flow.step(None, command("VERIFY", ref=data["ref"]), facts.staff, facts.now)
        return _Move(effects=effects, pending=True)
    if value == "2":
        return _Move(go="verify_code")
    return None


def _verify_code(data: dict, value: str, facts: MenuFacts) -> _Move:
    code = value.replace(" ", "")
    if not (code.isdigit() and len(code) in (4, 6)):
        return _Move(prompt=("ussd.ask_code", {}))
    _, _, effects = staff_flow.step(None, command("OTP", ref=data["ref"], code=code), facts.staff, facts.now)
    return _Move(effects=effects, pending=True)


def _note(data: dict, value: str, facts: MenuFacts) -> _Move | None:
    if value == "1" and data.get("next") == ELSEWHERE:  # the earlier dose was given elsewhere: record this one
        return _preview({**data, "elsewhere": True}, facts)
    if value == "1" and data.get("next"):
        return _Move(go=data["next"], reset=True)
    return None


_HANDLERS = {
    "main": _main, "lang": _lang, "appointment": _appointment, "cancel_ask": _cancel_ask, "aefi": _aefi,
    "aefi_note": _aefi_note,
    "dose_ref": _dose_ref, "dose_num": _dose_num, "dose_vaccine": _dose_vaccine, "dose_lot": _dose_lot,
    "dose_confirm": _dose_confirm, "undo_confirm": _undo_confirm, "verify_ref": _verify_ref,
    "verify_action": _verify_action, "verify_code": _verify_code, "note": _note,
}
