"""Verification codes (OTP): issue and check, with the limits CONTRACT section 6 and issue 4 set.

- a code is 6 digits from `secrets`; only HMAC-SHA256(OTP_SECRET, "<beneficiary id>:<code>") is
  stored; it expires after 10 minutes and is single use;
- 5 wrong checks in 30 minutes lock the beneficiary for 30 minutes, across codes (a new VERIFY
  does not lift it); comparison is constant time;
- at most 3 codes per beneficiary per 10 minutes, and 30 VERIFY per staff phone per hour;
- the 4-digit security code of the beneficiary's upcoming appointment is accepted too (stored as
  an HMAC too, tikabot/codes/appointment.py; wrong
  security codes count toward the same lock; every wrong check and every lock is in the audit log);
- the code goes out through the outbox on the `otp` queue with a validity equal to its expiry;
- every success is kept in the audit log with its method (OTP or security code).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tikabot.codes import appointment as security_codes
from tikabot.outbox.messages import add_message
from tikabot.store.appointments import ACTIVE
from tikabot.store.models import Appointment, AuditLog, Beneficiary, OtpRecord

CODE_DIGITS = 6
EXPIRY = timedelta(minutes=10)
MAX_WRONG = 5
LOCK = timedelta(minutes=30)
PER_BENEFICIARY = (3, timedelta(minutes=10))
PER_STAFF = (30, timedelta(hours=1))
VERIFIED = "otp.verified"  # audit action of a successful check; detail.method: otp | security_code


@dataclass(frozen=True)
class Issued:
    ok: bool
    record: OtpRecord | None = None
    retry_minutes: int = 0  # when refused: minutes until a code may be sent again


@dataclass(frozen=True)
class Checked:
    outcome: str  # ok | wrong | expired | locked | none
    tries_left: int = 0
    minutes: int = 0


def new_code() -> str:
    return f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


def code_hash(secret: str, beneficiary_id: int, code: str) -> str:
    return hmac.new(secret.encode(), f"{beneficiary_id}:{code}".encode(), hashlib.sha256).hexdigest()


def _minutes_until(moment: datetime, now: datetime) -> int:
    return max(1, -(-int((moment - now).total_seconds()) // 60))


def issue(session: Session, *, beneficiary: Beneficiary, staff_phone: str, secret: str, now: datetime,
          code: str | None = None) -> Issued:
    """A new code for beneficiary, queued to their phone; refused past the rate limits."""
    limit, window = PER_BENEFICIARY
    recent = list(session.scalars(select(OtpRecord.created_at).where(
        OtpRecord.beneficiary_id == beneficiary.id, OtpRecord.created_at > now - window)
        .order_by(OtpRecord.created_at)))
    if len(recent) >= limit:
        return Issued(False, retry_minutes=_minutes_until(recent[0] + window, now))
    limit, window = PER_STAFF
    by_staff = list(session.scalars(select(OtpRecord.created_at).where(
        OtpRecord.requested_by == staff_phone, OtpRecord.created_at > now - window)
        .order_by(OtpRecord.created_at)))
    if len(by_staff) >= limit:
        return Issued(False, retry_minutes=_minutes_until(by_staff[0] + window, now))
    code = code or new_code()
    record = OtpRecord(beneficiary_id=beneficiary.id, code_hash=code_hash(secret, beneficiary.id, code),
                       requested_by=staff_phone, created_at=now, expires_at=now + EXPIRY)
    session.add(record)
    session.flush()
    add_message(session, key=f"otp-{record.id}", recipient=beneficiary.phone, template="otp.code",
                language=beneficiary.language, params={"code": code, "minutes": int(EXPIRY.total_seconds() // 60)},
                priority="otp", expires_at=record.expires_at, beneficiary_id=beneficiary.id)
    return Issued(True, record=record)


def _security_code_matches(session: Session, secret: str, beneficiary_id: int, code: str, today) -> bool:
    hashes = session.scalars(select(Appointment.security_code_hash).where(
        Appointment.beneficiary_id == beneficiary_id, Appointment.status.in_(ACTIVE),
        Appointment.date >= today)).all()
    return security_codes.matches(secret, beneficiary_id, code, hashes)


WRONG = "otp.wrong_code"
LOCKED = "otp.locked"


def _actor(beneficiary_id: int) -> str:
    return f"beneficiary:{beneficiary_id}"


def _audit_since(beneficiary_id: int, actions, since: datetime):
    return (select(AuditLog.at).where(AuditLog.actor == _actor(beneficiary_id), AuditLog.action.in_(actions),
                                      AuditLog.at > since))


def _locked_until(session: Session, beneficiary_id: int, now: datetime) -> datetime | None:
    """The end of the beneficiary's lock, if one holds: a lock belongs to the beneficiary, not to
    one code, so a new VERIFY does not lift it."""
    started = session.scalar(_audit_since(beneficiary_id, (LOCKED,), now - LOCK)
                             .order_by(AuditLog.at.desc()).limit(1))
    return None if started is None else started + LOCK


def _wrong_recently(session: Session, beneficiary_id: int, now: datetime) -> int:
    """Wrong checks (OTP or security code, whichever code they were against) in the last LOCK period."""
    return session.scalar(select(func.count()).select_from(
        _audit_since(beneficiary_id, (WRONG,), now - LOCK).subquery())) or 0


def _count_wrong(session: Session, beneficiary_id: int, record: OtpRecord | None, now: datetime,
                 checked_by: str) -> Checked:
    wrong = _wrong_recently(session, beneficiary_id, now) + 1
    session.add(AuditLog(at=now, actor=_actor(beneficiary_id), action=WRONG, detail={"by": checked_by}))
    if record is not None:
        record.attempts += 1
    if wrong < MAX_WRONG:
        return Checked("wrong", tries_left=MAX_WRONG - wrong)
    session.add(AuditLog(at=now, actor=_actor(beneficiary_id), action=LOCKED, detail={"by": checked_by}))
    if record is not None:
        record.locked_until = now + LOCK
    return Checked("locked", minutes=_minutes_until(now + LOCK, now))


def _verified(session: Session, beneficiary_id: int, now: datetime, checked_by: str, method: str) -> Checked:
    """A success, kept in the audit log with how it was made (the export's `verified` column)."""
    session.add(AuditLog(at=now, actor=f"beneficiary:{beneficiary_id}", action=VERIFIED,
                         detail={"by": checked_by, "method": method}))
    return Checked("ok")


def check(session: Session, *, beneficiary_id: int, code: str, secret: str, now: datetime, today,
          checked_by: str) -> Checked:
    """Check a code (or the appointment's security code). Records attempts; a success uses it up.

    Every wrong check counts against the beneficiary, whichever code it was aimed at: 5 in 30
    minutes lock the beneficiary (not the code) for 30 minutes, even the right code is refused
    meanwhile, and a new VERIFY neither lifts the lock nor gives five more tries."""
    until = _locked_until(session, beneficiary_id, now)
    if until is not None:
        return Checked("locked", minutes=_minutes_until(until, now))
    record = session.scalar(select(OtpRecord).where(OtpRecord.beneficiary_id == beneficiary_id)
                            .order_by(OtpRecord.created_at.desc(), OtpRecord.id.desc()).limit(1))
    pending = record is not None and record.used_at is None and record.expires_at > now
    security = len(code) == 4  # the appointment's security code, not a 6-digit OTP
    if pending and hmac.compare_digest(record.code_hash, code_hash(secret, beneficiary_id, code)):
        record.used_at = now
        return _verified(session, beneficiary_id, now, checked_by, "otp")
    if security and _security_code_matches(session, secret, beneficiary_id, code, today):
        if pending:
            record.used_at = now
        return _verified(session, beneficiary_id, now, checked_by, "security_code")
    if pending or security:
        return _count_wrong(session, beneficiary_id, record if pending else None, now, checked_by)
    if record is not None and record.used_at is None:
        return Checked("expired")
    return Checked("none")
