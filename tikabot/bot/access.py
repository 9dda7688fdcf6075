"""Who may use the coordinator bot: active staff with role coordinator and their Telegram user id.

Everyone else is refused once (a polite reply) and every attempt is written to the audit log.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tikabot.store.models import AuditLog, Staff

REFUSED = "bot.refused"


def coordinator(session: Session, telegram_user_id: int | None) -> Staff | None:
    if telegram_user_id is None:
        return None
    return session.scalar(select(Staff).where(
        Staff.telegram_user_id == telegram_user_id, Staff.role == "coordinator", Staff.active.is_(True)))


def anyone(session: Session, telegram_user_id: int | None) -> Staff | None:
    """The staff record with this Telegram user id, whatever its role or state (for the refusal's
    language), or None."""
    if telegram_user_id is None:
        return None
    return session.scalar(select(Staff).where(Staff.telegram_user_id == telegram_user_id)
                          .order_by(Staff.active.desc(), Staff.id).limit(1))


def actor(telegram_user_id: int | None) -> str:
    return f"telegram:{telegram_user_id}"


def record_refusal(session: Session, telegram_user_id: int | None, text: str) -> bool:
    """Audit an unauthorised attempt; True when this user has not been refused before."""
    who = actor(telegram_user_id)
    first = session.scalar(select(AuditLog.id).where(AuditLog.actor == who, AuditLog.action == REFUSED)
                           .limit(1)) is None
    session.add(AuditLog(actor=who, action=REFUSED, detail={"text": (text or "")[:200]}))
    return first
