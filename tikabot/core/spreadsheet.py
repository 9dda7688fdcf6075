"""Cells that a spreadsheet shows as text: the rule every CSV tikabot writes follows, and its inverse.

A cell starting with = + - or @ is prefixed with ' (OWASP's advice against formula injection).
Reading a file tikabot wrote (an export, a rejects file) takes the ' off again, so a lot `-12`
exported as `'-12` comes back as `-12`, and importing an export back changes nothing.
"""
from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@")


def formula_safe(text: str) -> str:
    """A cell starting like a formula is prefixed with ' so a spreadsheet shows it as text."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def unprefixed(text: str) -> str:
    """The cell as it was before formula_safe: `'=1` -> `=1`; anything else as it is."""
    return text[1:] if text.startswith("'") and text[1:2] in FORMULA_STARTS else text
