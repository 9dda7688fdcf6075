"""The rehearsal's report as a district officer reads it: one plain verdict, where the number of
expected doses comes from, why messages failed in words (not provider codes), and what to do next.
The engineers' table follows it unchanged (report.py); the invariants are the same ones."""
from __future__ import annotations

from tikabot.bot.failures import reason_of
from tikabot.i18n.catalog import render

ATTEND_SHARE = 0.85  # rehearsal/day.py plan_sites: the share of the booked who come on the day


def _n(value: int) -> str:
    return f"{value:,}"


def verdict(report) -> str:
    """One sentence: the day held (with its three figures) or the first thing that broke."""
    doses, severe, registry = report.doses, report.severe or {}, report.registry or {}
    if report.broken:
        more = f" (and {len(report.broken) - 1} more below)" if len(report.broken) > 1 else ""
        return f"The day did NOT hold: {report.broken[0]}{more}."
    parts = [f"{_n(doses.get('recorded', 0))} of {_n(doses.get('expected', 0))} doses recorded"]
    if severe.get("recorded"):
        parts.append("every SEVERE side effect reached an officer by SMS")
    if registry:
        parts.append("every record reached the registry")
    return "The day held: " + ", ".join(parts) + "."


def arithmetic(report) -> str:
    """Why N doses were expected of the people booked."""
    expected, booked = report.doses.get("expected", 0), report.beneficiaries
    return (f"{_n(booked)} people were booked at {report.sites} sites. As on a real day, not everyone comes: "
            f"each person came with a chance of {ATTEND_SHARE:.0%}, so {_n(expected)} came and each got dose 1 "
            f"({_n(expected)} expected doses); the other {_n(booked - expected)} stayed home and answered their "
            f"reminders instead (YES, NO, STOP, a question).")


def causes(report) -> list[str]:
    """Final failures by cause in people's words; injected ones are the simulator's faults on purpose."""
    lines = []
    for group, intro in (("injected", "on purpose (the simulator's faults)"), ("unexpected", "NOT injected")):
        words: dict[str, int] = {}
        for kind, n in (report.failures or {}).get(group, {}).items():
            code = kind.split()[0] if kind != "no error code" else None
            reason = reason_of(code)
            text = ("no answer in time, or the network failed" if code in ("timeout", "network") else
                    "the provider was busy or failing (it asked us to slow down or answered with an error)"
                    if code in ("429", "20429", "500") else render(f"bot.reason_{reason}", "en"))
            words[text] = words.get(text, 0) + n
        if words:
            lines.append(f"messages that failed {intro}: " + "; ".join(
                f"{n} {text}" for text, n in sorted(words.items(), key=lambda kv: -kv[1])))
    return lines or ["no message failed for good"]


NEXT = (
    "Look at the picture: rehearsal-out/report.png (each site's doses against those due, SEVERE alerts, the registry).",
    "Try it as a vaccinator: ./run up, then .venv/bin/tikabot phone <staff phone> (README: Try it in a minute).",
    "Try the coordinator bot: .venv/bin/tikabot phone --telegram 100007 while ./run up runs.",
    "Your district: import your sites.csv, staff.csv, beneficiaries.csv and appointments.csv (README: Commands).",
)


def officer_lines(report) -> list[str]:
    return [verdict(report), "", arithmetic(report), *causes(report), "",
            "What to do next:", *(f"  {i}. {line}" for i, line in enumerate(NEXT, 1)), "",
            "For engineers:"]
