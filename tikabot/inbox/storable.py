"""What the inbox can hold, the same on SQLite and PostgreSQL: checked before the INSERT.

PostgreSQL refuses a NUL in text, neither driver can encode a lone surrogate (a JSON body may carry
"\\ud800"), and PostgreSQL refuses a value longer than its column where SQLite keeps it. A message
the database cannot take would otherwise fail its INSERT, be spooled as if the database were down,
and stop the spool's drain behind it. So, before the INSERT:

- the text has NUL and lone surrogates replaced (U+FFFD): what the person typed stays readable;
- an id, sender, channel or route holding them, or longer than its column, is refused
  (Unstorable, a ValueError): the webhook answers 400 and nothing is kept, on both databases.
"""
from __future__ import annotations

from dataclasses import replace

from tikabot.core.message import InboundMessage
from tikabot.core.safe_text import UNSTORABLE
from tikabot.store.models import InboundMessage as InboundRow

_UNSTORABLE = UNSTORABLE
REPLACEMENT = "\ufffd"
_COLUMNS = InboundRow.__table__.c
LIMITS = {"provider_id": _COLUMNS.provider_id.type.length, "sender": _COLUMNS.sender.type.length,
          "channel": _COLUMNS.channel.type.length, "via": _COLUMNS.via.type.length}


class Unstorable(ValueError):
    """The message cannot be kept as it is; the text says which field and why."""


def clean_text(text: str) -> str:
    """text with NUL and lone surrogates replaced by U+FFFD."""
    return _UNSTORABLE.sub(REPLACEMENT, text)


def _check_field(name: str, value) -> None:
    if not isinstance(value, str):
        raise Unstorable(f"{name} must be text")
    if _UNSTORABLE.search(value):
        raise Unstorable(f"{name} holds a NUL or an unpaired surrogate")
    if len(value) > LIMITS[name]:
        raise Unstorable(f"{name} is longer than {LIMITS[name]} characters")


def storable(message: InboundMessage) -> InboundMessage:
    """The message as the inbox can hold it (its text cleaned); Unstorable when a field cannot be."""
    for name in LIMITS:
        _check_field(name, getattr(message, name) or "")
    if not message.provider_id or not message.sender:
        raise Unstorable("provider id and sender are required")
    if not isinstance(message.text, str):
        raise Unstorable("text must be text")
    cleaned = clean_text(message.text)
    return message if cleaned == message.text else replace(message, text=cleaned)


def storable_row(row: dict) -> dict:
    """A spool line's row as the inbox can hold it; Unstorable when it cannot be."""
    message = InboundMessage(channel=row.get("channel"), provider_id=row.get("provider_id"),
                             sender=row.get("sender"), text=row.get("body"), via=row.get("via") or "")
    kept = storable(message)
    return {**row, "body": kept.text}
