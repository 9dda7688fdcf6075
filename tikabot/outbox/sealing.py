"""Codes at rest: a message that carries a code is stored with the code masked, and its real text
encrypted until the message is final.

An OTP, the digits a voice call reads out and the 4-digit security code of the booking message
are secrets: anyone who can read the outbox table (a backup, a coordinator's /failed, a log of a
query) could verify a beneficiary with them. So `outbound_messages.body` holds the text with
each code replaced by asterisks of the same length, and `sealed_body` the real text, sealed with
Fernet (AES-128-CBC + HMAC-SHA256) under a key derived from OTP_SECRET. The sender unseals it at
send time; once the message is final (delivered, failed, expired, canceled) or past its expiry,
`sealed_body` is cleared (`scrub`, in the same statement that makes it final and in the relay's
periodic pass), and the code is gone from the database. A failed OTP SMS keeps it until its
expiry, for the voice call that reads the code out instead.
"""
from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import and_, or_, update

from tikabot.store.models import OutboundMessage
from tikabot.config import Config

SEALER_KEY = "sealer"  # session.info entry: the Sealer of the process's OTP_SECRET
# template -> the parameters that are secrets
SECRET_PARAMS = {"otp.code": ("code",), "otp.voice": ("digits",), "appt.booked": ("code",)}
FINAL = ("delivered", "failed", "expired", "canceled")
# A failed OTP SMS still owes its code to the voice call that stands in for it (queue/relay.py,
# voice_fallbacks): its sealed text goes at its expiry, 10 minutes after it was issued.
KEPT_WHEN_FAILED = "otp.code"
MASK = "*"


class Sealer:
    def __init__(self, secret: str):
        key = hashlib.sha256(b"tikabot outbox seal\0" + secret.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def seal(self, text: str) -> str:
        return self._fernet.encrypt(text.encode()).decode("ascii")

    def unseal(self, token: str) -> str | None:
        """The text, or None when the token was sealed under another OTP_SECRET or is damaged."""
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode()
        except (InvalidToken, UnicodeError):
            return None


@lru_cache(maxsize=4)
def sealer(secret: str) -> Sealer:
    return Sealer(secret)


def of_session(session) -> Sealer:
    """The session's sealer (set by Services.build); else the one of OTP_SECRET in the environment."""
    found = session.info.get(SEALER_KEY)
    if found is not None:
        return found
    return sealer(Config.from_env(dotenv=False).otp_secret)


def masked_params(template: str, params: dict) -> dict | None:
    """params with the template's secrets masked, or None when the template carries none."""
    names = [n for n in SECRET_PARAMS.get(template, ()) if params.get(n) not in (None, "")]
    if not names:
        return None
    return {**params, **{n: "".join(MASK if ch.isdigit() else ch for ch in str(params[n])) for n in names}}


def readable(body: str, sealed: str | None, seal: Sealer) -> str:
    """The text to send: the unsealed one when there is one."""
    if sealed is None:
        return body
    text = seal.unseal(sealed)
    return body if text is None else text


def done_with(status: str, template: str) -> bool:
    """Whether a message in this status needs its sealed text no more."""
    return status in FINAL and not (status == "failed" and template == KEPT_WHEN_FAILED)


def scrub(session, now: datetime) -> int:
    """Clear the sealed text of every final or expired message. Returns how many were cleared."""
    table = OutboundMessage.__table__
    final = and_(table.c.status.in_(FINAL), or_(table.c.status != "failed", table.c.template != KEPT_WHEN_FAILED))
    result = session.execute(update(table).where(
        table.c.sealed_body.is_not(None), or_(final, table.c.expires_at < now)).values(sealed_body=None))
    return result.rowcount or 0
