"""One SEVERE alert per beneficiary and site within a window; later reports are counted into it.

Fifteen SEVERE reports in a few seconds from one phone (a vaccinator pressing send again, a USSD
session walked twice) raised fifteen alerts, two SMS each, on the OTP lane. The first report of a
beneficiary at a site alerts at once, as before; another SEVERE report for the same beneficiary and
site within WINDOW of that alert is recorded (its AdverseEvent row, as every report) and counted
into the first alert's record (`detail["repeats"]`, `detail["repeat_events"]`), with no new SMS.
After the window a new report alerts again.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tikabot.store.models import AdverseEvent, CoordinatorAlert

WINDOW = timedelta(minutes=30)


def alert_key(event_id: int) -> str:
    return f"aefi-{event_id}"


def open_alert(session: Session, event: AdverseEvent) -> CoordinatorAlert | None:
    """The alert raised for an earlier SEVERE report of the same beneficiary and site within WINDOW
    before this one, if any (the latest such)."""
    earlier = session.scalars(select(AdverseEvent.id).where(
        AdverseEvent.severity == "SEVERE", AdverseEvent.beneficiary_id == event.beneficiary_id,
        AdverseEvent.site_id.is_(None) if event.site_id is None else AdverseEvent.site_id == event.site_id,
        AdverseEvent.id < event.id, AdverseEvent.created_at >= event.created_at - WINDOW)).all()
    if not earlier:
        return None
    return session.scalar(select(CoordinatorAlert).where(CoordinatorAlert.key.in_([alert_key(i) for i in earlier]))
                          .order_by(CoordinatorAlert.id.desc()).limit(1))


def count_into(record: CoordinatorAlert, event: AdverseEvent) -> None:
    """Counts the report into the alert once, however often the sweep meets it again."""
    seen = list(record.detail.get("repeat_events", []))
    if event.id not in seen:
        seen.append(event.id)
        record.detail = {**record.detail, "repeat_events": seen, "repeats": len(seen)}
