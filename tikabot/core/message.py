"""The channel-neutral inbound message and the runner's answer."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class InboundMessage:
    channel: str  # sms | ussd | telegram
    provider_id: str  # the provider's id for this message (Twilio MessageSid): the dedupe key
    sender: str  # E.164 phone
    text: str
    # the provider route it arrived on ("twilio", "android:<device>", "exotel", ...); "" = the
    # channel's only provider. A reply goes back the same way while that route is up.
    via: str = ""


@dataclass(frozen=True)
class RunResult:
    reply: str | None  # None: no reply (loop guard, rate limit for non-staff)
    duplicate: bool = False  # the same provider id was handled before; nothing was done again


@dataclass(frozen=True)
class Held:
    """An inbox message a worker has claimed: its row, the message, and the claim's lease (its token)."""
    row_id: int
    message: InboundMessage
    lease_until: datetime
