"""The SMS grammar (CONTRACT section 6) as one pure function: parse(text) -> Parsed, the command.

Keyword first, any case, with Bengali/Hindi aliases from the catalogs. Tokens are
separated by spaces, commas, '*' or '#'; Bengali and Devanagari digits count as
ASCII; punctuation around a token is dropped. A vaccine name of several words from the
vaccines file ("SPUTNIK V") is read as one name wherever a vaccine may stand, the longest
known name first. parse never raises: what it cannot read it reports in Parsed.error, a
short code the flow turns into a reply.

Parsed is the one structured command the flows take: SMS builds it with parse(text), a
menu channel (USSD) with command(keyword, ...) from the choices made, never from text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from tikabot.flows import vaccines
from tikabot.flows.keywords import command_word, leading_phrase
from tikabot.flows.ordinals import dose_number
from tikabot.i18n.catalog import fold, keyword_aliases, language_aliases
from tikabot.i18n.digits import ascii_digits

HYPHENS = re.compile(r"[-\u2010\u2011\u2012\u2013\u2014\u2212]")
REF = re.compile(r"[0-9]{6,14}")
CODE = re.compile(r"[0-9]{4,8}")
GLUED = re.compile(r"(\D+?)([0-9][0-9-]*)")  # "DOSE12345678", "OTP১২৩৪৫৬৭৮"
MAX_DOSE = 3
MAX_LOT = 40  # the length of the lot columns (doses, sessions)
EDGE_PUNCTUATION = "!\"'()+./:;<=>?@[\\]^_`{|}~\u0964\u0965\u2018\u2019\u201c\u201d\u2026"
COMMANDS = ("START", "DOSE", "UNDO", "VERIFY", "OTP", "COUNT", "END", "AEFI",
            "LANG", "HELP", "YES", "NO", "STOP")
SEVERITIES = ("MINOR", "SEVERE")
BARE_REPLIES = {"1": "YES"}  # a bare "2" cancels nothing: it is also a dose number (flows/beneficiary.py)
INVISIBLE = dict.fromkeys(map(ord, "\u200b\u2060\ufeff"))


@dataclass(frozen=True)
class Parsed:
    keyword: str | None = None  # canonical English command, None if not understood
    args: tuple[str, ...] = ()  # tokens after the keyword: ASCII digits, upper case
    ref: str | None = None  # 6-14 ASCII digits
    dose: int | None = None
    vaccine: str | None = None  # canonical name, or the raw token when not known
    vaccine_known: bool = False
    lot: str | None = None
    code: str | None = None  # ASCII digits
    severity: str | None = None  # MINOR or SEVERE
    note: str | None = None
    elsewhere: bool = False  # DOSE ... ELSEWHERE: the earlier dose was given elsewhere
    lang: str | None = None  # EN, BN or HI
    error: str | None = None  # see ERRORS
    usage: str | None = None  # catalog key such as "usage.DOSE"
    # every cleaned token of the message, the keyword's first (SMS only; not part of the command's meaning)
    words: tuple[str, ...] = field(default=(), compare=False)


def command(keyword: str, **fields) -> Parsed:
    """The command a menu choice stands for, built from its parts: command("DOSE", ref=..., dose=2,
    vaccine="SPUTNIK V", lot="L1"). A vaccine is named as the vaccines file names it (or an alias)."""
    vaccine = fields.pop("vaccine", None)
    if vaccine is not None:
        fields.update(_vaccine_fields(vaccine))
    return Parsed(keyword=keyword, usage=f"usage.{keyword}", error=_field_error(fields), **fields)


def _field_error(fields: dict) -> str | None:
    """What the grammar would refuse in these parts: the same checks a typed command gets."""
    if fields.get("dose") is not None and not 1 <= fields["dose"] <= MAX_DOSE:
        return "bad_dose"
    if fields.get("vaccine") and not fields.get("vaccine_known"):
        return "unknown_vaccine"
    if len(fields.get("lot") or "") > MAX_LOT:
        return "bad_lot"
    return None


ERRORS = {
    "empty": "nothing but separators",
    "unknown_command": "first word is not a command",
    "missing_ref": "REF expected",
    "bad_ref": "REF is not 6-14 digits",
    "bad_dose": "dose number outside 1-3, or two different dose numbers",
    "unknown_vaccine": "vaccine name not known",
    "missing_vaccine": "START needs a vaccine",
    "missing_lot": "START needs a lot",
    "missing_code": "OTP needs a code",
    "bad_code": "code is not 4-8 digits",
    "missing_severity": "AEFI needs MINOR or SEVERE",
    "missing_lang": "LANG needs a language",
    "bad_lang": "language not known",
}


def _clean(token: str) -> str:
    return token.strip(EDGE_PUNCTUATION).upper()


def _normalise(text: object) -> str:
    if not isinstance(text, str):
        return ""
    return ascii_digits(text).translate(INVISIBLE)


def tokens(text: str) -> tuple[str, ...]:
    """The cleaned tokens of a whole message (for guided answers such as a bare "2")."""
    return tuple(t for t, _ in _tokens(_normalise(text)))


def _tokens(text: str) -> list[tuple[str, int]]:
    """Cleaned tokens with the end offset of each in text."""
    out = []
    for match in re.finditer(r"[^\s,*#]+", text):
        token = _clean(match.group())
        if token:
            out.append((token, match.end()))
    return out


def _keyword(word: str) -> str | None:
    return keyword_aliases().get(fold(word))


def _ref(token: str | None) -> tuple[str | None, str | None]:
    """(ref, error) for a REF token; hyphens are ignored."""
    if token is None:
        return None, "missing_ref"
    digits = HYPHENS.sub("", token)
    if REF.fullmatch(digits):
        return digits, None
    return None, "bad_ref"


def _vaccine_fields(token: str) -> dict:
    found = vaccines.resolve(token)
    if found:
        return {"vaccine": found.name, "vaccine_known": True}
    return {"vaccine": token, "vaccine_known": False}


def join_vaccine_names(words: list[str] | tuple[str, ...]) -> list[str]:
    """The words with each run that names a vaccine ("SPUTNIK", "V") joined into one ("SPUTNIK V");
    the longest known name wins."""
    longest = vaccines.most_words()
    out, i = [], 0
    while i < len(words):
        size = next((n for n in range(min(longest, len(words) - i), 1, -1)
                     if vaccines.resolve(" ".join(words[i:i + n]))), 1)
        out.append(" ".join(words[i:i + size]))
        i += size
    return out


def _parse_dose(args: list[str]) -> dict:
    if len(args) > 1 and dose_number(args[0]) is not None and _ref(args[1])[0]:
        args = [args[1], args[0], *args[2:]]  # "DOSE 2 12345678", "DOSE 2nd 12345678"
    ref, error = _ref(args[0] if args else None)
    fields: dict = {"ref": ref, "error": error}
    for token in args[1:]:
        number = dose_number(token)  # a token shaped like a dose number is never a lot or a vaccine
        word = _keyword(token)
        if number is not None:
            if fields.get("dose") not in (None, number) or not 1 <= number <= MAX_DOSE:
                fields["error"] = fields["error"] or "bad_dose"
            fields.setdefault("dose", number)
        elif word == "ELSEWHERE":
            fields["elsewhere"] = True
        elif word == "DOSE":  # "DOSE 12345678 2nd dose", "ডোজ ... ১ম ডোজ"
            continue
        elif fields.get("vaccine") is None and (
            vaccines.resolve(token) or not any(ch.isdigit() for ch in token)
        ):
            fields.update(_vaccine_fields(token))
        elif fields.get("lot") is None:
            fields["lot"] = token
    if fields.get("vaccine") and not fields.get("vaccine_known"):
        fields["error"] = fields["error"] or "unknown_vaccine"
    if len(fields.get("lot") or "") > MAX_LOT:
        fields["error"] = fields["error"] or "bad_lot"
    return fields


def _parse_start(args: list[str]) -> dict:
    if not args:  # a beneficiary opting back in, or staff to be asked
        return {}
    fields: dict = {}
    for token in args:
        if fields.get("vaccine") is None and (
            vaccines.resolve(token) or not any(ch.isdigit() for ch in token)
        ):
            fields.update(_vaccine_fields(token))
        elif fields.get("lot") is None:
            fields["lot"] = token
    if fields.get("vaccine") is None:
        fields["error"] = "missing_vaccine"
    elif not fields["vaccine_known"]:
        fields["error"] = "unknown_vaccine"
    elif fields.get("lot") is None:
        fields["error"] = "missing_lot"
    elif len(fields["lot"]) > MAX_LOT:
        fields["error"] = "bad_lot"
    return fields


def _parse_otp(args: list[str]) -> dict:
    ref, error = _ref(args[0] if args else None)
    fields: dict = {"ref": ref, "error": error}
    if len(args) < 2:
        fields["error"] = error or "missing_code"
    elif CODE.fullmatch(args[1]):
        fields["code"] = args[1]
    else:
        fields["error"] = error or "bad_code"
    return fields


def _parse_aefi(args: list[str], text: str, ends: list[int]) -> dict:
    ref, error = _ref(args[0] if args else None)
    fields: dict = {"ref": ref, "error": error}
    severity = _keyword(args[1]) if len(args) > 1 else None
    if severity in SEVERITIES:
        fields["severity"] = severity
        note = " ".join(text[ends[1]:].strip(" ,*#").split())
        fields["note"] = note or None
    else:
        fields["error"] = error or "missing_severity"
    return fields


def _parse_lang(args: list[str]) -> dict:
    if not args:
        return {"error": "missing_lang"}
    lang = language_aliases().get(fold(args[0]))
    return {"lang": lang} if lang else {"error": "bad_lang"}


def _split_glued(tokens: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """'DOSE12345678' -> 'DOSE', '12345678' when the letters are a keyword."""
    first, end = tokens[0]
    glued = GLUED.fullmatch(first)
    if _keyword(first) is None and glued:
        word = _clean(glued.group(1).rstrip("-"))
        if word and _keyword(word):
            return [(word, end - len(glued.group(2))), (glued.group(2), end), *tokens[1:]]
    return tokens


def parse(text: str) -> Parsed:
    """Read one inbound SMS. Never raises."""
    return _parse(text, vaccines.generation())


@lru_cache(maxsize=256)  # the runner, the flow and its ref lookup each read the same text
def _parse(text: str, _vaccines: int) -> Parsed:
    """parse, cached per text and per set of known vaccines (a name loaded later reads as a vaccine)."""
    text = _normalise(text)
    phrase = leading_phrase(text)  # "ঠিক আছে" is one word
    if phrase is not None:
        text = " ".join((phrase[0], phrase[1]))
    found = _tokens(text)
    if not found:
        return Parsed(error="empty")
    found = _split_glued(found)
    words = [t for t, _ in found]
    keyword = command_word(words[0])  # exact, else a typo one edit away (DSOE, VERFY)
    if keyword is None and len(words) == 1:
        keyword = BARE_REPLIES.get(words[0])
        if keyword is None and len(fold(words[0])) >= 4 and fold(words[0]) in language_aliases():
            keyword, words = "LANG", ["LANG", *words]  # a bare "বাংলা" or "HINDI"
            found = [("LANG", 0), *found]
    if keyword not in COMMANDS:
        return Parsed(args=tuple(words[1:]), error="unknown_command", words=tuple(words))
    args = join_vaccine_names(words[1:]) if keyword in ("DOSE", "START") else words[1:]
    fields: dict = {}
    if keyword == "DOSE":
        fields = _parse_dose(args)
    elif keyword == "START":
        fields = _parse_start(args)
    elif keyword == "VERIFY":
        fields = dict(zip(("ref", "error"), _ref(args[0] if args else None)))
    elif keyword == "UNDO" and args:  # "UNDO <REF>": that dose; a bare UNDO: the sender's last
        fields = dict(zip(("ref", "error"), _ref(args[0])))
    elif keyword == "OTP":
        fields = _parse_otp(args)
    elif keyword == "AEFI":
        fields = _parse_aefi(args, text, [end for _, end in found[1:]])
    elif keyword == "LANG":
        fields = _parse_lang(args)
    return Parsed(keyword=keyword, args=tuple(args), usage=f"usage.{keyword}", words=tuple(words), **fields)
