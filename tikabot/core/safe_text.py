"""Text that may be put in a reply: no control characters.

An inbound SMS can carry any character, and replies echo parts of it (a REF, a lot, a word that
was not understood). C0 controls other than tab and newline, DEL, lone surrogates and the
non-characters U+FFFE/U+FFFF make TwiML invalid XML (Twilio then sends nothing) and a USSD
screen unreadable, so every channel strips them where it renders a reply.
"""
from __future__ import annotations

import re

_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


# What no database of ours can store (PostgreSQL refuses a NUL; no driver encodes a lone surrogate).
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable_id(value: str) -> bool:
    """An id or sender we can look up and keep: no NUL, no lone surrogate."""
    return UNSTORABLE.search(value) is None


def printable(text: str) -> str:
    """text without control characters (tab, newline and carriage return are kept)."""
    return _UNSAFE.sub("", text)
