"""The rehearsal's uneven day for coordinators (tikabot/rehearsal/uneven.py), in its own database
beside the main one: played on an injected clock through the real alert checks, /status and
/failed as the bot words them. The report shows the alerts each coordinator got, whether each was
acted on in time, and checks what a coordinator must be able to rely on."""
from __future__ import annotations

from datetime import time
from pathlib import Path

from sqlalchemy import select

from tikabot.bot import queries, render
from tikabot.bot.need import ranked
from tikabot.core.clock import local_date, now as utcnow
from tikabot.rehearsal import uneven
from tikabot.store.db import make_engine, make_sessionmaker, transaction
from tikabot.store.migrate import upgrade
from tikabot.store.models import CoordinatorAlert, OutboundMessage

DB_NAME = "coordinator-day.db"
PHONE_LINK = "+91"


def drill(folder: Path, tz: str) -> dict:
    path = folder / DB_NAME
    if path.exists():
        path.unlink()
    engine = make_engine(f"sqlite:///{path}")
    try:
        upgrade(engine)
        sessions = make_sessionmaker(engine)
        day = local_date(utcnow(), tz)
        with transaction(sessions) as session:
            plan = uneven.build(session, day, tz)
        received = uneven.play(lambda: transaction(sessions), plan, until=time(12, 30))
        noon = plan.at(uneven.NOW.hour)
        with transaction(sessions) as session:
            statuses = queries.site_statuses(session, day, tz, now=noon)
            pairs = ranked(statuses, noon)
            status = {lang: "\n".join([render.status_title(day, statuses, lang, pairs, noon, tz)]
                                      + render.ranked_lines(pairs, tz, lang)) for lang in ("en", "bn")}
            alerts = list(session.scalars(select(CoordinatorAlert).order_by(CoordinatorAlert.id)))
            bodies = [m.body for m in session.scalars(select(OutboundMessage).where(
                OutboundMessage.template.like("alert.%"), OutboundMessage.idempotency_key.not_like("%-ack-%"),
                OutboundMessage.idempotency_key.not_like("%-u%")))]
            corrected = session.scalar(select(OutboundMessage.body).where(
                OutboundMessage.idempotency_key.like("alert-nosession-%-u%")).limit(1))
            found = {
                "status_en": status["en"], "status_bn": status["bn"],
                "alerts": [r.as_dict() for r in received],
                "first_in_status": [s.code for s, _ in pairs[:2]],
                "alerts_raised": len(alerts),
                "alerts_without_site_phone_or_next_step": sum(
                    1 for b in bodies if not (PHONE_LINK in b and ("U0" in b) and _has_next_step(b))),
                "severe_escalated": any(a.kind == "severe" and a.escalated_at for a in alerts),
                "stale_alert_corrected": corrected is not None,
            }
        return found
    finally:
        engine.dispose()


def _has_next_step(body: str) -> bool:
    return any(word in body for word in ("Next:", "এরপর:", "आगे:"))


def drill_invariants(found: dict) -> list[str]:
    broken = []
    if not found:
        return broken
    if found["first_in_status"] != ["U01", "U02"]:
        broken.append(f"/status on the uneven day put {found['first_in_status']} first, not the unstarted and "
                      "silent sites")
    if found["alerts_without_site_phone_or_next_step"]:
        broken.append(f"{found['alerts_without_site_phone_or_next_step']} coordinator alerts lack a site code, a "
                      "phone or a next step")
    if not found["severe_escalated"]:
        broken.append("the unacknowledged SEVERE side effect was not escalated")
    if not found["stale_alert_corrected"]:
        broken.append("the stale 'not opened' alert was never corrected")
    return broken


def drill_table(found: dict) -> list[str]:
    """Lines for the report's table: each coordinator's alerts and whether acted on in time."""
    lines = ["coordinator alerts on the uneven day (who / alert / acknowledged by, after / escalated / in time):"]
    for a in found.get("alerts", []):
        acked = f"{a['acked_by']}, {a['acked_after_min']} min" if a["acked_by"] else "nobody"
        in_time = "yes" if a["acted_on_in_time"] else "NO"
        if "severe" in str(a["alert"]).lower() and not a["acked_by"] and a["escalated"]:
            in_time = "escalation test: left unanswered on purpose, escalated to the state as it must be"
        lines.append(f"  {a['coordinator']:<10} {a['alert']:<12} {acked:<22} "
                     f"{'escalated' if a['escalated'] else '-':<9} {in_time}")
    return lines


