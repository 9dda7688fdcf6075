"""The planner: turns due appointment messages into outbox rows. Safe to run any number of times.

Every row is keyed `appt-<appointment>-<kind>-<date>` (or `due-<person>-d2-<kind>-<due date>`),
so a second run, a restart or a re-import writes nothing new, and a new date means new keys: the
old date's unsent reminders are withdrawn. Rows are written up to a day ahead with `not_before`
set to the local send time (moved out of quiet hours) and `expires_at` to the moment it would be
too late, so they go out even if nothing here runs when the time comes.
"""
from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tikabot.core.clock import as_utc
from tikabot.outbox.messages import dispatch_now
from tikabot.reminders import schedule as s
from tikabot.reminders.booking import write
from tikabot.reminders.cancel import CANCELLED, unsent, withdraw
from tikabot.reminders.candidates import gather
from tikabot.reminders.doses import confirm_recent_doses
from tikabot.reminders.policy import Policy
from tikabot.store.models import Appointment, Dose, OutboundMessage

log = logging.getLogger(__name__)
KEY_BATCH = 500


def plan(session: Session, now: datetime, config) -> dict[str, int]:
    """One planning pass at `now`, in the caller's transaction. Returns counts by what was done."""
    now = as_utc(now)
    policy = Policy.from_config(config)
    counts: Counter[str] = Counter()
    counts["missed_marked"] = mark_missed(session, now, policy)
    candidates = gather(session, now, policy)
    stored = stored_by_key(session, [c.key for c in candidates])
    for candidate in candidates:
        timing = candidate.timing(now, policy)
        row = stored.get(candidate.key)
        if row is None:
            if write(session, candidate, timing, now) is not None:
                counts[candidate.kind.name] += 1
        elif row.status == CANCELLED and row.provider_id is None and s.plannable(timing, now):
            row.status, row.not_before, row.expires_at = "pending", timing.not_before(now), timing.expires_at
            if row.not_before is None:
                dispatch_now(session, [row])
            counts["revived"] += 1
    wanted = {c.key for c in candidates}
    stale = [row for row in session.scalars(unsent()) if row.idempotency_key not in wanted]
    counts["cancelled"] = withdraw(session, stale, "no longer wanted: date changed, cancelled, dose given or opted out")
    counts["confirmations"] = confirm_recent_doses(session, now, policy)
    result = {name: n for name, n in counts.items() if n}
    log.info("reminder planner: %s", result or "nothing to do")
    return result


def mark_missed(session: Session, now: datetime, policy: Policy) -> int:
    """Appointments whose day is over with no dose given are marked missed."""
    today = policy.local_date(now)
    dosed = select(Dose.id).where(Dose.beneficiary_id == Appointment.beneficiary_id,
                                  Dose.dose_number == Appointment.dose_number, Dose.voided.is_(False))
    result = session.execute(update(Appointment)
                             .where(Appointment.date < today, Appointment.date >= today - timedelta(days=7),
                                    Appointment.status.in_(s.ACTIVE), ~dosed.exists())
                             .values(status="missed").execution_options(synchronize_session="fetch"))
    return result.rowcount or 0


def stored_by_key(session: Session, keys: list[str]) -> dict[str, OutboundMessage]:
    found: dict[str, OutboundMessage] = {}
    for i in range(0, len(keys), KEY_BATCH):
        batch = keys[i:i + KEY_BATCH]
        found.update((m.idempotency_key, m) for m in session.scalars(
            select(OutboundMessage).where(OutboundMessage.idempotency_key.in_(batch))))
    return found
