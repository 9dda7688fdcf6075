"""`tikabot templates check`: every template in every language, its encoding and segment count.

Rendered with realistic worst-case sample values (tikabot/i18n/samples.py). Exit status 1 when a
template that must fit one SMS (the OTP) needs more, or when a translation cannot be rendered.
"""
from __future__ import annotations

from dataclasses import dataclass

from tikabot.i18n.catalog import LANGUAGES, all_keys, render
from tikabot.i18n.encoding import sms_info
from tikabot.i18n.samples import ONE_SEGMENT_KEYS, sample_params


@dataclass(frozen=True)
class Row:
    key: str
    lang: str
    encoding: str
    segments: int
    units: int
    problem: str = ""


def check_templates() -> list[Row]:
    rows = []
    for key in all_keys():
        for lang in LANGUAGES:
            try:
                text = render(key, lang, **sample_params(key, lang))
            except (KeyError, ValueError, IndexError) as exc:
                rows.append(Row(key, lang, "-", 0, 0, f"cannot render: {exc}"))
                continue
            info = sms_info(text)
            problem = "must fit one SMS" if key in ONE_SEGMENT_KEYS and info.segments > 1 else ""
            rows.append(Row(key, lang, info.encoding, info.segments, info.units, problem))
    return rows


def report(rows: list[Row]) -> tuple[list[str], bool]:
    lines = [f"{'template':32} {'lang':4} {'encoding':8} {'seg':>3} {'units':>5}  problem"]
    lines += [f"{r.key:32} {r.lang:4} {r.encoding:8} {r.segments:>3} {r.units:>5}  {r.problem}" for r in rows]
    bad = [r for r in rows if r.problem]
    lines.append(f"{len(rows)} templates checked, {len(bad)} problems")
    return lines, not bad


import click  # noqa: E402  (the command line part, kept below the pure check)


@click.group("templates")
def templates() -> None:
    """Message templates."""


@templates.command("check")
@click.option("--quiet", is_flag=True, help="Print only problems and the summary.")
def check(quiet: bool) -> None:
    """Encoding and segments of every template in en/bn/hi; exit 1 if an OTP needs more than one SMS."""
    lines, ok = report(check_templates())
    for line in lines if not quiet else [l for l in lines[1:] if l.rstrip().endswith(("SMS", "problems")) or "cannot" in l]:
        click.echo(line)
    raise SystemExit(0 if ok else 1)
