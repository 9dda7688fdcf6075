"""Telling coordinators about routes: once per outage, and once per day for each template a
domestic route refused for want of an approved DLT id (grouped: one message for a burst of
refusals, however many messages or workers saw them).

Both go through alerts.alert_coordinators (the outbox), keyed so that the same outage or the
same set of templates never alerts twice; the DLT markers are audit-log rows, as alerts.py
marks what it has said.
"""
from __future__ import annotations

import zlib
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tikabot.alerts.coordinators import alert_coordinators
from tikabot.queue.routes.health import Outage
from tikabot.queue.routes.table import RouteTable
from tikabot.store.models import AuditLog

MAX_LISTED = 6


def record_outage(session: Session, outage: Outage, ended: bool = False) -> None:
    """The outage in the audit log ("route_down", then "route_up"): what a rehearsal's report and
    an operator read back as the day's failovers."""
    session.add(AuditLog(actor="system", action="route_up" if ended else "route_down",
                         detail={"route": outage.route, "reason": outage.reason, "since": outage.since,
                                 "forced": outage.forced, "outage": outage.id}))


def alert_route_down(session: Session, outage: Outage, table: RouteTable) -> int:
    """One alert for this outage (keyed by its id: a second worker seeing it adds nothing)."""
    others = [r for r in table.all_routes if r != outage.route]
    return len(alert_coordinators(session, key=f"route-down-{outage.id}", template="alert.route_down",
                                  params={"route": outage.route, "cause": outage.reason,
                                          "fallback": ", ".join(others) or "-"}, priority="otp"))


def alert_account_failure(session: Session, route: str, code: str, now: datetime) -> int:
    """A route paused for its account's error: once an hour per route and code, on the fastest
    lane; it names the route and the provider's code."""
    return len(alert_coordinators(session, key=f"account-{route}-{code}-{now:%Y%m%d%H}",
                                  template="alert.account_failure", params={"route": route, "code": code},
                                  priority="otp"))


def _fresh(session: Session, markers: list[str]) -> list[str]:
    """The markers not alerted before; marks them (in this transaction)."""
    actions = {f"alerted:{m}"[:64]: m for m in markers}
    seen = set(session.scalars(select(AuditLog.action).where(AuditLog.action.in_(list(actions)))))
    fresh = [m for a, m in actions.items() if a not in seen]
    session.add_all(AuditLog(actor="system", action=f"alerted:{m}"[:64], detail={}) for m in fresh)
    return fresh


def alert_dlt_refusals(session: Session, refusals: list[tuple[str, str, str]], now: datetime) -> int:
    """One grouped alert per route for the templates it refused today that were not yet told."""
    sent = 0
    by_route: dict[str, list[tuple[str, str]]] = {}
    for route, template, language in dict.fromkeys(refusals):
        by_route.setdefault(route, []).append((template, language))
    for route, items in sorted(by_route.items()):
        markers = [f"dlt:{route}:{t}:{l}:{now:%Y%m%d}" for t, l in items]
        fresh = _fresh(session, markers)
        if not fresh:
            continue
        named = [f"{m.split(':')[2]} ({m.split(':')[3]})" for m in fresh]
        listed = ", ".join(named[:MAX_LISTED]) + (f" +{len(named) - MAX_LISTED}" if len(named) > MAX_LISTED else "")
        digest = f"{zlib.crc32('|'.join(sorted(fresh)).encode()):08x}"
        sent += len(alert_coordinators(session, key=f"dlt-{route}-{now:%Y%m%d}-{digest}",
                                       template="alert.dlt_unregistered",
                                       params={"route": route, "templates": listed}))
    return sent
