"""Signs of life from a site: the one rule the coordinator view (/site, /status) and the silent-site
alert share."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tikabot.core.clock import as_utc
from tikabot.store.models import Dose, InboundMessage


def last_report(session: Session, site_id: int, staff_phones: list[str]) -> datetime | None:
    """The latest sign of life from a site: a dose recorded there or a message from its staff."""
    moments = [session.scalar(select(func.max(Dose.created_at)).where(Dose.site_id == site_id))]
    if staff_phones:
        moments.append(session.scalar(select(func.max(InboundMessage.received_at))
                                      .where(InboundMessage.sender.in_(staff_phones))))
    moments = [as_utc(m) for m in moments if m is not None]
    return max(moments) if moments else None
