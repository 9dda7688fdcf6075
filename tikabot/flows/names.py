"""How a message addresses a person: by the first word of their registered name (the whole name
when it has no spaces). One rule for every message: confirmations, reminders, replies to staff."""
from __future__ import annotations


def first_name(name: str) -> str:
    words = name.split()
    return words[0] if words else name
