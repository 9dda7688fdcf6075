"""The channel-neutral USSD request and reply: what a gateway adapter (tikabot/handlers/) reads a
callback into, and what the runner answers (vumi2's one message type with a session flag: only the
adapter knows the gateway's `CON`/`END`)."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class UssdRequest:
    """A gateway request, channel-neutral: who, which session, every input so far."""
    session_id: str
    phone: str  # E.164
    inputs: list[str] = field(default_factory=list)
    service_code: str = ""
    network_code: str = ""


@dataclass(frozen=True)
class UssdReply:
    """A screen and the session flag: end=False asks for more input, end=True closes the session."""
    text: str
    end: bool
