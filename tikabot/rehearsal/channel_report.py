"""The rehearsal's figures by channel: what each route carried and failed, every failover (route
down, route up, read back from the audit log), and the invariants a failover must keep."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tikabot.queue.routes.table import RouteTable, traffic_kind
from tikabot.store.models import AuditLog, InboundMessage, OutboundMessage

SENT = ("accepted", "sent", "delivered")
SETTLE_S = 5.0
# Routes whose "accepted" is the last word: MSDG (C-DAC) sends no delivery reports and has no look-up.
NO_RECEIPTS = ("cdac",)
# Routes that cannot be asked whether they already have a message (no look-up by our id, and their
# report names only an id we never learnt when the answer was lost): a copy whose answer was lost is
# sent again, and the phone may get it twice. The design allows it (README, Routes and failover).
CANNOT_ASK = ("cdac", "nic")


def _epoch(at: datetime) -> float:
    return (at if at.tzinfo else at.replace(tzinfo=timezone.utc)).timestamp()


def _route(channel: str, via: str | None) -> str:
    """The route of a row: `android:phone1` is the android route (by its phone 1); an SMS with no
    route yet is Twilio's (unrouted), a USSD session or a voice call its channel's."""
    if channel != "sms":
        return channel
    return (via or "twilio").split(":")[0]


def _empty() -> dict:
    return {"inbound": 0, "sent": 0, "delivered": 0, "failed": 0, "held": 0}


def by_route(session: Session) -> dict:
    """{route: {"inbound", "sent", "delivered", "failed", "held"}}: people's messages by the route they
    came in on; outbox rows by the route that carried them (voice calls and Telegram under their
    channel); held: not sent and not failed (withdrawn when no longer true, or due later)."""
    table: dict = {}
    rows = session.execute(select(OutboundMessage.channel, OutboundMessage.via, OutboundMessage.status, func.count())
                           .group_by(OutboundMessage.channel, OutboundMessage.via, OutboundMessage.status)).all()
    for channel, via, status, n in rows:
        cell = table.setdefault(_route(channel, via), _empty())
        cell["sent"] += n if status in SENT else 0
        cell["delivered"] += n if status == "delivered" else 0
        cell["failed"] += n if status == "failed" else 0
        cell["held"] += 0 if status in SENT or status == "failed" else n
    rows = session.execute(select(InboundMessage.channel, InboundMessage.via, func.count())
                           .group_by(InboundMessage.channel, InboundMessage.via)).all()
    for channel, via, n in rows:
        table.setdefault(_route(channel, via), _empty())["inbound"] += n
    return table


def by_kind(session: Session) -> dict:
    """{traffic kind: {route: SMS sent}}: where each kind of message actually went."""
    counts: Counter = Counter()
    rows = session.execute(select(OutboundMessage.template, OutboundMessage.priority, OutboundMessage.via)
                           .where(OutboundMessage.channel == "sms", OutboundMessage.status.in_(SENT))).all()
    for template, priority, via in rows:
        counts[(traffic_kind(template, priority), _route("sms", via))] += 1
    table: dict = {}
    for (kind, route), n in sorted(counts.items()):
        table.setdefault(kind, {})[route] = n
    return table


def failovers(session: Session, day_started: float) -> list[dict]:
    """Every route taken down and brought back, in order, seconds from the start of the day."""
    rows = session.scalars(select(AuditLog).where(AuditLog.action.in_(("route_down", "route_up")))
                           .order_by(AuditLog.at, AuditLog.id)).all()
    return [{"route": r.detail.get("route"), "event": "down" if r.action == "route_down" else "up",
             "reason": r.detail.get("reason"), "at": r.at.strftime("%H:%M:%S"),
             "s_into_day": round(_epoch(r.at) - day_started, 1), "forced": bool(r.detail.get("forced"))}
            for r in rows]


def not_at_provider(session: Session, sim_messages: list[dict]) -> int:
    """SMS tikabot counts as sent that no provider has: lost on the way."""
    sids = {m.get("sid") for m in sim_messages}
    ids = session.scalars(select(OutboundMessage.provider_id).where(
        OutboundMessage.channel == "sms", OutboundMessage.status.in_(SENT))).all()
    return sum(1 for sid in ids if sid not in sids)


def link_copies(session: Session, sim_messages: list[dict]) -> None:
    """Name our outbox id on each provider copy tikabot learnt the id of (C-DAC's MsgID, NIC's request
    id: those providers are never told ours), so duplicates are judged by message, not by words."""
    unnamed = {m["sid"] for m in sim_messages if not m.get("outbox_id") and m.get("sid")}
    if not unnamed:
        return
    ids = dict(session.execute(select(OutboundMessage.provider_id, OutboundMessage.id)
                               .where(OutboundMessage.provider_id.in_(unnamed))).all())
    for m in sim_messages:
        if not m.get("outbox_id") and m.get("sid") in ids:
            m["outbox_id"] = str(ids[m["sid"]])


def unlinked_copies(sim_messages: list[dict]) -> dict:
    """SMS a provider sent that tikabot never learnt of (the answer lost after the send), by route,
    and how many of them reached a phone that also got the message's linked copy: the duplicates the
    design allows on routes that cannot be asked (CANNOT_ASK). Call after link_copies."""
    linked = Counter((m["to"], m["body"]) for m in sim_messages if m.get("outbox_id"))
    found: dict = {}
    for m in sim_messages:
        if m.get("outbox_id") or m.get("provider") not in (*CANNOT_ASK, "kannel"):
            continue
        cell = found.setdefault(m["provider"], {"copies": 0, "twice": 0})
        cell["copies"] += 1
        cell["twice"] += 1 if linked[(m["to"], m["body"])] else 0
    return found


def channel_invariants(channels: dict) -> list[str]:
    broken = []
    for route, cell in channels.get("unlinked", {}).items():
        if route not in CANNOT_ASK and cell["copies"]:
            broken.append(f"{cell['copies']} SMS sent by {route} that tikabot never linked to a message")
    if channels.get("not_at_provider"):
        broken.append(f"{channels['not_at_provider']} SMS counted as sent that no provider has (lost)")
    outage = channels.get("outage")
    if not outage:
        return broken
    route, events = outage["route"], channels.get("failovers", [])
    if not outage.get("noticed"):
        broken.append(f"{route} was down from {outage['began_s']} s but tikabot never took it out of rotation")
    downs = [e for e in events if e["route"] == route and e["event"] == "down"]
    ups = [e for e in events if e["route"] == route and e["event"] == "up"]
    if not downs:
        broken.append(f"{route} went down but no failover was recorded (route_down)")
    not_back = not ups or (outage.get("ended_s") is not None and ups[-1]["s_into_day"] < outage["ended_s"] - 1)
    if not_back and channels.get("needed_after_return", 1):  # unknown (older reports): judged as before
        broken.append(f"{route} came back at {outage.get('ended_s')} s but was never taken back into rotation")
    if not channels.get("failed_over"):
        broken.append(f"no message went by another route while {route} was down")
    return broken


def failed_over(session: Session, table: RouteTable, route: str, began: float, ended: float) -> int:
    """SMS whose first route is `route` that another route carried while it was down (sent then,
    or within SETTLE_S of its return: the attempt that found it down hands over at once)."""
    window = (datetime.fromtimestamp(began, timezone.utc), datetime.fromtimestamp(ended + SETTLE_S, timezone.utc))
    rows = session.execute(select(OutboundMessage.template, OutboundMessage.priority)
                           .where(OutboundMessage.channel == "sms", OutboundMessage.status.in_(SENT),
                                  OutboundMessage.via != route, OutboundMessage.via.not_like(f"{route}:%"),
                                  OutboundMessage.sent_at.between(*window))).all()
    return sum(1 for template, priority in rows if table.routes_for(traffic_kind(template, priority))[0] == route)


def needed_after_return(session: Session, table: RouteTable, route: str, back_by: float) -> int:
    """SMS whose first route is `route` sent after `back_by`, when the route, back, could have taken
    them: none, and whether it was taken back cannot be seen (a route comes back with the next
    message that tries it, and the day had none left for it)."""
    since = datetime.fromtimestamp(back_by, timezone.utc)
    rows = session.execute(select(OutboundMessage.template, OutboundMessage.priority)
                           .where(OutboundMessage.channel == "sms", OutboundMessage.status.in_(SENT),
                                  OutboundMessage.sent_at > since)).all()
    return sum(1 for template, priority in rows if table.routes_for(traffic_kind(template, priority))[0] == route)


def channel_table(channels: dict) -> list[str]:
    lines = [f"channels: {channels.get('spec')}  (TIKABOT_ROUTES={channels.get('routes')})"]
    lines.append(f"  {'route':<10}{'in':>7}{'sent':>8}{'delivered':>11}{'failed':>8}{'held':>7}")
    for route, c in sorted(channels.get("by_route", {}).items()):
        lines.append(f"  {route:<10}{c['inbound']:>7}{c['sent']:>8}{c['delivered']:>11}{c['failed']:>8}{c['held']:>7}")
    for kind, routes in channels.get("by_kind", {}).items():
        lines.append(f"  {kind + ' sent by':<21}" + ", ".join(f"{r} {n}" for r, n in routes.items()))
    dlt = channels.get("dlt")
    if dlt:
        lines.append(f"  DLT: {dlt['templates']} templates registered ({dlt['imported']})")
    outage = channels.get("outage")
    if outage:
        lines.append(f"  {outage['route']} down for minutes {outage['planned_minutes']} of the day ({outage['fault']}): "
                     f"from {outage['began_s']} s to {outage['ended_s']} s, noticed at {outage['noticed_s']} s; "
                     f"{channels.get('failed_over', 0)} SMS carried by another route")
    if outage and channels.get("needed_after_return") == 0:
        lines.append(f"  {outage['route']}: no SMS of its traffic was left once it was back (the day had ended); "
                     "whether it was taken back is not judged")
    for e in channels.get("failovers", []):
        lines.append(f"  failover: {e['route']} {e['event']} at {e['at']} ({e['s_into_day']} s into the day)"
                     + (f", {e['reason']}" if e["event"] == "down" else ""))
    if not channels.get("failovers"):
        lines.append("  failovers: none")
    for route, cell in channels.get("unlinked", {}).items():
        allowed = " (allowed: it cannot be asked)" if route in CANNOT_ASK else ""
        lines.append(f"  {route}: {cell['copies']} SMS sent whose answer was lost, {cell['twice']} of them reached "
                     f"a phone twice{allowed}")
    return lines
