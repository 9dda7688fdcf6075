"""Appointment security codes at rest: only an HMAC, as OTPs are kept (tikabot/codes/otp.py).

A security code verifies a beneficiary like an OTP, so anyone who could read the appointments
table (a backup, a query in a log) could verify anyone with it. A code is made when its
appointment is imported (or moved to a new date), goes out once in the booking SMS (sealed in the
outbox until that message is final, tikabot/outbox/sealing.py), and only
HMAC-SHA256(OTP_SECRET, "appt:<beneficiary id>:<code>") is stored. Reminders and USSD screens do not
show it; a check compares hashes in constant time.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

from tikabot.config import Config

DIGITS = 4
SECRET_KEY = "otp_secret"  # session.info entry: OTP_SECRET of the process (set by Services.build)


def new_code() -> str:
    return f"{secrets.randbelow(10 ** DIGITS):0{DIGITS}d}"


def code_hash(secret: str, beneficiary_id: int, code: str) -> str:
    return hmac.new(secret.encode(), f"appt:{beneficiary_id}:{code}".encode(), hashlib.sha256).hexdigest()


def matches(secret: str, beneficiary_id: int, code: str, stored: list[str]) -> bool:
    """Whether code is one of the stored hashes; every one is compared (constant time each)."""
    given = code_hash(secret, beneficiary_id, code).encode()
    found = False
    for value in stored:
        found |= hmac.compare_digest(given, (value or "").encode())
    return found


def secret_of(session) -> str:
    """The session's OTP_SECRET (set by Services.build); else the environment's."""
    found = session.info.get(SECRET_KEY)
    if found is not None:
        return found
    return Config.from_env(dotenv=False).otp_secret
