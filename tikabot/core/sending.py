"""The channel-neutral send vocabulary: what every channel's sender and the send job share.

Error kinds and `SendError` (whether to retry, give up or stop and tell a person), the outgoing
message a sender is handed, the provider's acceptance, a status report translated from any
provider's callback, and how a verification code is found in and read out of a text. Channel
modules (tikabot/handlers/) translate their provider's vocabulary into these; nothing here knows
a provider.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

# What to do about an error: try again later, give up, or stop sending and tell a person.
RETRY, FAIL, ACCOUNT = "retry", "fail", "account"
# After an error whose outcome is unknown (timeout, 5xx) the message may exist at the provider.
UNKNOWN = "unknown"


@dataclass(frozen=True)
class ErrorKind:
    name: str
    action: str
    max_retries: int | None = None  # None: the sender's normal limit
    slow: bool = False  # a long back-off (handset off, queue full)
    # refused by our own pacing before anything was sent: not an attempt and no failure of the
    # route; the message goes back to the outbox until SendError.wait_s has passed
    paced: bool = False
    # the recipient told the provider to stop (Twilio's 21610): they are marked opted out
    opted_out: bool = False


NETWORK_ERROR = ErrorKind("network_error", UNKNOWN)
TIMEOUT = ErrorKind("timeout", UNKNOWN)
SERVER_ERROR = ErrorKind("provider_error", UNKNOWN)
UNDELIVERED = ErrorKind("undelivered", FAIL)  # a report of failure that names no cause


class SendError(Exception):
    """A named send failure: `kind.action` says whether to retry, fail or stop."""

    def __init__(self, kind: ErrorKind, code: int | str | None = None, detail: str = "",
                 wait_s: float | None = None):
        super().__init__(f"{kind.name} ({code}): {detail}" if detail else f"{kind.name} ({code})")
        self.kind = kind
        self.code = str(code) if code is not None else kind.name[:10]
        self.wait_s = wait_s  # the provider said not to try again sooner (Telegram's retry_after)


@dataclass(frozen=True)
class Outgoing:
    """What a sender needs to know about one message."""
    id: int
    attempt: int
    channel: str
    recipient: str
    body: str
    language: str
    priority: str
    expires_at: datetime | None
    # The approved DLT record (tikabot.dlt.records.DltRecord) the send path attaches for a domestic
    # Indian route; None elsewhere. A domestic sender finding None refuses (DLT_UNREGISTERED).
    dlt: object | None = None
    buttons: list | None = None  # Telegram only: rows of [label, callback data] under the text
    # the route (and gateway phone) asked for, e.g. "android:ranaghat" for a reply to a message
    # that came in on that phone; a sender with several phones prefers it
    via: str | None = None


@dataclass(frozen=True)
class Accepted:
    provider_id: str
    provider_status: str
    via: str | None = None  # more than the route, when the sender knows it: "android:<phone>"


@dataclass(frozen=True)
class StatusReport:
    """A status callback, translated."""
    provider_id: str
    status: str  # accepted | sent | delivered | undelivered (tikabot/core/statuses.py)
    error_code: int | None
    message_id: int | None  # ours, from the callback URL
    attempt: int | None
    # The error's kind, named by the channel that read the report (its code as text in `code`, or
    # the number in error_code). None: the report names no cause (UNDELIVERED).
    kind: ErrorKind | None = None
    code: str | None = None
    # The route whose credential signed the report ("twilio", "exotel", "android:<phone>"): it may
    # touch only what was handed to that route (queue/callbacks.py). None: read from the provider's
    # API by us (a status poll), not reported to us.
    via: str | None = None


def spaced_digits(code: str) -> str:
    """'482913' -> '4 8 2 9 1 3': a voice reads each digit."""
    return " ".join(code)


CODE = re.compile(r"(?<!\d)\d{4,10}(?!\d)")


def code_in(body: str) -> str | None:
    """The verification code in an OTP text (codes are always ASCII digits)."""
    found = CODE.search(body)
    return found.group(0) if found else None
