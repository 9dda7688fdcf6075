"""The rehearsal's verdict: figures from the database and the simulator, and the invariants."""
from __future__ import annotations

import json
from collections import Counter
from urllib.parse import parse_qs, urlsplit
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from tikabot.rehearsal.verdict import officer_lines, verdict
from tikabot.core.clock import local_date, now as utcnow
from tikabot.flows import course, vaccines
from tikabot.handlers.twilio_sms import classify
from tikabot.core.statuses import TERMINAL
from tikabot.queue.routes.table import RouteTable
from tikabot.rehearsal.channel_report import (NO_RECEIPTS, by_kind, by_route, channel_table, failed_over, failovers,
                                              needed_after_return, not_at_provider)
from tikabot.rehearsal.coordinator_day import drill_table
from tikabot.rehearsal.india import HEALTH
from tikabot.rehearsal.day import Expectation
from tikabot.rehearsal.registry import registry_invariants
from tikabot.simulator.config import DELIVERY_CODES
from tikabot.store.models import AdverseEvent, Appointment, Beneficiary, Dose, OutboundMessage, Site

# What the simulator injects at --fail-rate (simulator/config.py, spread_fail_rate): delivery errors,
# and API faults a message may still fail on after its last attempt. Any other final failure was
# not asked for.
INJECTED = frozenset({str(code) for code in DELIVERY_CODES} | {"429", "20429", "500", "timeout", "network"})
DEFINITIONS = (
    "sent: accepted by the provider (its status is accepted, sent or delivered)",
    "not final: still on its way when the day ended: neither delivered, failed, expired nor canceled, "
    "and not scheduled for later (every message must be final: one that is not was lost)",
)



def unsettled(now: datetime):
    """Messages still on their way: not terminal, not a call (calls end at `sent`: no receipts), not
    an SMS accepted by a route that never reports on it (NO_RECEIPTS: C-DAC's `402` is all it says),
    and not scheduled for later (tomorrow's reminders are not lost, just not due). A retry waiting
    for its back-off is on its way, however soon or late it is due."""
    m = OutboundMessage
    return and_(m.status.not_in(TERMINAL), ~and_(m.channel == "voice", m.status == "sent"),
                ~and_(m.channel == "sms", m.via.in_(NO_RECEIPTS), m.status == "accepted"),
                ~and_(m.status == "pending", m.attempts == 0, m.not_before.is_not(None), m.not_before > now))


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


@dataclass
class Report:
    seconds: float
    sites: int
    beneficiaries: int
    inbound_requests: int
    ussd_requests: int = 0
    coordinator_bot: dict = field(default_factory=dict)
    messages: dict = field(default_factory=dict)
    doses: dict = field(default_factory=dict)
    duplicate_sms: int = 0
    otp_latency_s: dict = field(default_factory=dict)
    otp_not_arrived: int = 0
    dispatch_rate_msg_s: float = 0.0  # over the whole day
    dispatch_peak_msg_s: float = 0.0  # the busiest 10 seconds
    inbound_latency_ms: dict = field(default_factory=dict)
    chaos: dict = field(default_factory=dict)
    phases_s: dict = field(default_factory=dict)
    severe: dict = field(default_factory=dict)  # SEVERE side effects: reported, recorded, reached by SMS
    false_complete: int = 0  # people told "fully vaccinated" with a dose not on record
    registry: dict = field(default_factory=dict)  # the day's doses in the FHIR registry (rehearsal/registry.py)
    failures: dict = field(default_factory=dict)  # {"injected": {kind: n}, "unexpected": {kind: n}}
    by_site_hour: dict = field(default_factory=dict)  # {site: {slot hour: [due, recorded]}}
    coordinator_day: dict = field(default_factory=dict)  # the uneven day (rehearsal/coordinator_day.py)
    channels: dict = field(default_factory=dict)  # by route, failovers, the outage (rehearsal/channel_report.py)
    broken: list[str] = field(default_factory=list)

    def write(self, folder: Path) -> Path:
        path = folder / "report.json"
        path.write_text(json.dumps(asdict(self), indent=2, ensure_ascii=False), encoding="utf-8")
        return path

    def table(self) -> str:
        m, d = self.messages, self.doses
        rows = [
            ("sites / beneficiaries", f"{self.sites} / {self.beneficiaries}"),
            ("inbound requests (of which USSD)", f"{self.inbound_requests} ({self.ussd_requests})"),
            ("coordinator commands answered", "{answered} / {commands}".format(**self.coordinator_bot)
             if self.coordinator_bot else "not asked"),
            ("messages sent / delivered", f"{m.get('sent', 0)} / {m.get('delivered', 0)}"),
            ("retried / failed / not final", f"{m.get('retried', 0)} / {m.get('failed', 0)} / {m.get('not_final', 0)}"),
            ("doses expected / recorded", f"{d.get('expected', 0)} / {d.get('recorded', 0)}"),
            ("dose duplicates / lost", f"{d.get('duplicates', 0)} / {d.get('lost', 0)}"),
            ("duplicate SMS", f"{self.duplicate_sms}"),
            ("SEVERE reported / reached by SMS", "{reported} / {reached_by_sms}".format(**self.severe)
             if self.severe else "none"),
            ("told complete with a dose missing", f"{self.false_complete}"),
            ("OTP latency p50/p95/p99 s", "{p50:.2f} / {p95:.2f} / {p99:.2f}".format(**self.otp_latency_s)),
            ("OTPs not arrived (security code used)", f"{self.otp_not_arrived}"),
            ("dispatch rate: day / busiest 10 s", f"{self.dispatch_rate_msg_s:.0f} / {self.dispatch_peak_msg_s:.0f} msg/s"),
            ("inbound latency p50/p99 ms", "{p50:.0f} / {p99:.0f}".format(**self.inbound_latency_ms)),
            ("records synced upstream", "synced {synced} of {doses}".format(**self.registry)
             if self.registry else "not synced"),
            ("duplicates upstream / reconcile differences",
             "{duplicates_upstream} / {differences}".format(**self.registry) if self.registry else "-"),
            ("failed, injected by the simulator", _kinds(self.failures.get("injected", {}))),
            ("failed, not injected (unexpected)", _kinds(self.failures.get("unexpected", {}))),
            ("chaos", ", ".join(f"{k} {v}" for k, v in self.chaos.items()) or "none"),
            ("time", f"{self.seconds:.0f} s (" + ", ".join(f"{k} {v:.0f} s" for k, v in self.phases_s.items()) + ")"
             if self.phases_s else f"{self.seconds:.0f} s"),
        ]
        width = max(len(k) for k, _ in rows)
        lines = officer_lines(self) + [f"{k.ljust(width)}  {v}" for k, v in rows]
        if self.channels:
            lines += channel_table(self.channels)
        if self.coordinator_day:
            lines += drill_table(self.coordinator_day)
        lines += [f"  {definition}" for definition in DEFINITIONS]
        lines += [f"BROKEN: {b}" for b in self.broken] or ["all invariants hold"]
        lines += ["", verdict(self)]  # again at the end, where the terminal stops
        return "\n".join(lines)


def build_report(session: Session, sim_messages: list[dict], expect: Expectation, *, seconds: float,
                 sites: int, beneficiaries: int, chaos: dict, bot: dict | None = None,
                 registry: dict | None = None) -> Report:
    report = Report(seconds=seconds, sites=sites, beneficiaries=beneficiaries,
                    inbound_requests=expect.requests, ussd_requests=expect.ussd_requests, chaos=chaos,
                    otp_not_arrived=expect.otp_not_arrived, coordinator_bot=bot or {})
    report.messages = _messages(session)
    report.failures = failures_by_kind(session)
    report.by_site_hour = doses_by_site_hour(session)
    report.doses = _doses(session, expect)
    report.duplicate_sms = duplicate_sms(sim_messages)
    report.severe = severe_reached(session, sim_messages, expect)
    report.false_complete = len(told_complete_falsely(session))
    report.otp_latency_s = {f"p{p}": percentile(expect.otp_latencies, p) for p in (50, 95, 99)}
    report.inbound_latency_ms = {f"p{p}": 1000 * percentile(expect.inbound_latencies, p) for p in (50, 99)}
    created = sorted(m["created"] for m in sim_messages)
    if len(created) > 1 and created[-1] > created[0]:
        report.dispatch_rate_msg_s = len(created) / (created[-1] - created[0])
        report.dispatch_peak_msg_s = busiest_window(created, 10.0) / 10.0
    report.registry = registry or {}
    report.broken = _invariants(report, expect) + registry_invariants(report.registry)
    return report


def channel_figures(session: Session, sim_messages: list[dict], channels, outage: dict | None, day_started: float,
                    dlt: dict | None, inbound: dict) -> dict:
    """The report's `channels` part: traffic and failures by route, by kind, every failover."""
    table = RouteTable.parse(channels.routes_setting() if channels.routed else "")
    figures = {"spec": channels.spec or "twilio only", "routes": channels.routes_setting() if channels.routed else "",
               "by_route": by_route(session), "by_kind": by_kind(session), "inbound_posted": inbound,
               "failovers": failovers(session, day_started), "outage": outage, "dlt": dlt,
               "not_at_provider": not_at_provider(session, sim_messages)}
    if outage and outage.get("began_s") is not None and outage.get("ended_s") is not None:
        figures["failed_over"] = failed_over(session, table, outage["route"], day_started + outage["began_s"],
                                             day_started + outage["ended_s"])
        # back at the latest one cool-off after the outage ended (a trial that failed just before
        # its end took the route down once more), and a second for the next message to try it
        cooldown = float(HEALTH["TIKABOT_ROUTE_COOLDOWN"])
        figures["needed_after_return"] = needed_after_return(session, table, outage["route"],
                                                             day_started + outage["ended_s"] + cooldown + 1.0)
    return figures


def busiest_window(times: list[float], width: float) -> int:
    """The most events in any `width`-second window of the sorted `times`."""
    best, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] > width:
            start += 1
        best = max(best, end - start + 1)
    return best


def _outbox_id(message: dict) -> str | None:
    """Our outbox id: as the simulator read it (every provider), else from the status callback URL
    the message was sent with (?id=...)."""
    if message.get("outbox_id"):
        return str(message["outbox_id"])
    query = parse_qs(urlsplit(message.get("status_callback") or "").query)
    return (query.get("id") or [None])[0]


def duplicate_sms(sim_messages: list[dict]) -> int:
    """One outbox message reaching the phone twice (without our id: the same text to the same phone
    twice). Two replies of the same words to two reports (each "Already recorded") are two
    messages, not a duplicate. A re-send after the provider reported the first copy undelivered or
    failed is a retry, not a duplicate: the phone never got the first one."""
    reached = Counter((m["to"], _outbox_id(m) or m["body"]) for m in sim_messages
                      if m.get("final_status", "delivered") not in ("undelivered", "failed"))
    return sum(n - 1 for n in reached.values() if n > 1)


def severe_reached(session: Session, sim_messages: list[dict], expect: Expectation) -> dict:
    """Every SEVERE side effect recorded, and whether an SMS naming it reached a coordinator or a
    medical officer: the simulator's record of what the provider delivered, not the outbox's hope."""
    reached_sids = {m.get("sid") for m in sim_messages if m.get("final_status", "delivered") not in ("undelivered", "failed")}
    refs = set(session.scalars(select(Beneficiary.ref).join(AdverseEvent, AdverseEvent.beneficiary_id == Beneficiary.id)
                               .where(AdverseEvent.severity == "SEVERE")))
    alerts = session.execute(select(OutboundMessage.provider_id, OutboundMessage.body).where(
        OutboundMessage.template == "alert.severe", OutboundMessage.channel == "sms")).all()
    reached = {ref for ref in refs if any(sid in reached_sids and f"REF {ref}" in body for sid, body in alerts)}
    return {"reported": len(expect.severe), "recorded": len(refs), "reached_by_sms": len(reached),
            "not_reached": sorted(refs - reached), "not_recorded": sorted(expect.severe - refs)}


def told_complete_falsely(session: Session) -> list[int]:
    """Beneficiaries sent "fully vaccinated" (and not withdrawn or corrected after) while a dose of
    their course is not on record."""
    told = session.execute(select(OutboundMessage.beneficiary_id, OutboundMessage.created_at).where(
        OutboundMessage.template == course.FINAL, OutboundMessage.status != "canceled",
        OutboundMessage.beneficiary_id.is_not(None))).all()
    wrong = []
    for person, at in told:
        live = session.execute(select(Dose.dose_number, Dose.vaccine).where(
            Dose.beneficiary_id == person, Dose.voided.is_(False))).all()
        rule = vaccines.resolve(live[0][1]) if live else None
        complete = rule is not None and set(range(1, rule.doses + 1)) <= {n for n, _ in live}
        corrected = session.scalar(select(func.count()).where(
            OutboundMessage.beneficiary_id == person, OutboundMessage.template == "dose.voided",
            OutboundMessage.created_at >= at))
        if not complete and not corrected:
            wrong.append(person)
    return wrong


def _kinds(kinds: dict) -> str:
    return ", ".join(f"{kind} {n}" for kind, n in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))) or "none"


def failure_kind(code: str | None) -> str:
    """A final failure's cause, readable: '30003 handset_unreachable', 'timeout', 'no error code'."""
    if not code:
        return "no error code"
    if code.isdigit():
        return f"{code} {classify(int(code)).name}"
    return code


def failures_by_kind(session: Session) -> dict:
    """Final failures by cause, the simulator's injected ones apart from the rest."""
    rows = session.execute(select(OutboundMessage.last_error_code, func.count())
                           .where(OutboundMessage.status == "failed")
                           .group_by(OutboundMessage.last_error_code)).all()
    found: dict = {"injected": {}, "unexpected": {}}
    for code, n in rows:
        group = "injected" if code in INJECTED else "unexpected"
        kind = failure_kind(code)
        found[group][kind] = found[group].get(kind, 0) + n
    return found


def doses_by_site_hour(session: Session, tz: str = "Asia/Kolkata") -> dict:
    """For each site and each slot's starting hour today: appointments due, and doses recorded for them."""
    today = local_date(utcnow(), tz)
    rows = session.execute(
        select(Site.code, Appointment.slot, Dose.id)
        .join(Site, Site.id == Appointment.site_id)
        .outerjoin(Dose, and_(Dose.beneficiary_id == Appointment.beneficiary_id,
                              Dose.dose_number == Appointment.dose_number, Dose.voided.is_(False)))
        .where(Appointment.date == today)).all()
    table: dict = {}
    for site, slot, dose_id in rows:
        hour = (slot or "").split(":")[0] or "?"
        cell = table.setdefault(site, {}).setdefault(hour, [0, 0])
        cell[0] += 1
        cell[1] += dose_id is not None
    return table


def _messages(session: Session) -> dict:
    by_status = dict(session.execute(select(OutboundMessage.status, func.count()).group_by(OutboundMessage.status)).all())
    retried = session.scalar(select(func.count()).where(OutboundMessage.attempts > 1)) or 0
    total = sum(by_status.values())
    return {"total": total, "by_status": by_status,
            "sent": sum(v for k, v in by_status.items() if k in ("accepted", "sent", "delivered")),
            "delivered": by_status.get("delivered", 0), "retried": retried,
            "failed": by_status.get("failed", 0),
            "scheduled": session.scalar(select(func.count()).where(
                OutboundMessage.status == "pending", OutboundMessage.not_before > utcnow())) or 0,
            "not_final": session.scalar(select(func.count()).where(unsettled(utcnow()))) or 0}


def _doses(session: Session, expect: Expectation) -> dict:
    rows = session.execute(select(Beneficiary.ref, Dose.dose_number)
                           .join(Dose, Dose.beneficiary_id == Beneficiary.id)
                           .where(Dose.voided.is_(False))).all()
    per_ref = Counter(ref for ref, _ in rows)
    recorded = set(per_ref)
    return {"expected": len(expect.doses), "recorded": len(rows),
            "duplicates": sum(n - 1 for n in per_ref.values() if n > 1),
            "lost": len(expect.doses - recorded), "unexpected": len(recorded - expect.doses)}


def _invariants(report: Report, expect: Expectation) -> list[str]:
    broken = []
    if report.doses["duplicates"]:
        broken.append(f"{report.doses['duplicates']} duplicate dose records")
    if report.doses["lost"]:
        broken.append(f"{report.doses['lost']} reported doses not recorded")
    if report.doses["unexpected"]:
        broken.append(f"{report.doses['unexpected']} doses recorded that nobody reported")
    if report.duplicate_sms:
        broken.append(f"{report.duplicate_sms} duplicate SMS reached the provider")
    severe = report.severe or {}
    if severe.get("not_recorded"):
        broken.append(f"{len(severe['not_recorded'])} SEVERE side effects reported but not recorded")
    if severe.get("not_reached"):
        broken.append(f"{len(severe['not_reached'])} SEVERE side effects reached nobody by SMS, "
                      f"e.g. REF {severe['not_reached'][0]}")
    if report.false_complete:
        broken.append(f"{report.false_complete} people told they are fully vaccinated with a dose not on record")
    if report.messages["not_final"]:
        broken.append(f"{report.messages['not_final']} messages never reached a final state (lost)")
    bot = report.coordinator_bot
    if bot and bot["answered"] < bot["commands"]:
        broken.append(f"the coordinator bot answered {bot['answered']} of {bot['commands']} commands")
    if expect.http_errors:
        broken.append(f"{len(expect.http_errors)} webhook requests failed, e.g. {expect.http_errors[0]}")
    return broken
