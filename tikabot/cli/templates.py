"""`tikabot templates check`: every template in every language, its encoding, length, segments
and limit, and whether it is within it.

Rendered with the longest real values when there is a database (site names in each reader's
language, first names: tikabot/dlt/values.py), else with the longest realistic values
(tikabot/i18n/samples.py: the longest site name in each script, the widest half-hour slot, a long
first name, 10-digit REFs). Limits (tikabot/i18n/limits.py): a beneficiary's SMS at most 2
segments, an OTP 1, a staff or coordinator SMS 2, a USSD screen 182 GSM-7 or 80 UCS-2 characters
(every screen the menus can show, tikabot/flows/ussd_menus.py, besides each catalog entry). Exit
status 1 when one is OVER or a translation cannot be rendered. With a database each row also says
how many of that message a day sends (the outbox's last 7 days) and what they cost.

Each row also says whether the template can be registered on a DLT portal as it is and whether
the rendered text matches its registered {#var#} text (tikabot/dlt/check.py); `--dlt` makes
those problems fail the check too (before registering, or before turning on a domestic route).

An SMS that can go on a DLT route is measured as that route sends it: ending with the configured
brand (TIKABOT_DLT_BRAND, else the catalog's dlt.brand). Which can: the registrable ones whose
traffic the routes table (TIKABOT_ROUTES, TIKABOT_DLT_ROUTES) gives a domestic route, at any
priority; so set the routes you mean to turn on before checking.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from tikabot.dlt.check import problems as dlt_problems
from tikabot.dlt.rules import CATALOG, Brand, sign_body
from tikabot.dlt.templates import FRAGMENTS, FREE_TEXT, NOT_SMS_PREFIXES
from tikabot.flows.ussd_menus import END_SCREENS, fits, nav, pages
from tikabot.i18n.catalog import LANGUAGES, all_keys, render
from tikabot.i18n.encoding import sms_info
from tikabot.i18n.limits import max_segments, ussd_limit
from tikabot.i18n.samples import sample_params

TELEGRAM_ONLY = ("bot.",)  # the coordinator bot's own replies: never sent by SMS, so not measured here
PRICE = 0.20  # per SMS segment; the default is a typical Indian DLT route price in rupees
KEY_WIDTH = 34


@dataclass(frozen=True)
class Row:
    key: str
    lang: str
    encoding: str
    segments: int
    units: int  # characters as the network counts them: GSM-7 septets or UTF-16 units
    problem: str = ""
    per_day: float | None = None  # messages a day, when a database tells
    cost_day: float | None = None
    dlt: str = ""  # why this template cannot go on a DLT route as it is ("" when it can)
    dlt_free_text: bool = False  # free text by design: sent on routes without DLT only
    limit: str = "-"  # "2" segments, "80c" characters on a USSD screen, "-" none (free text, fragments)
    signed: bool = False  # measured with the DLT brand a domestic route adds

    @property
    def status(self) -> str:
        if self.problem:
            return "OVER" if self.problem.startswith("over") else "ERROR"
        return "-" if self.limit == "-" else "OK"


def _is_sms(key: str) -> bool:
    return not key.startswith(NOT_SMS_PREFIXES) and key not in FRAGMENTS


def _ussd(key: str, text: str, lang: str) -> tuple[int, str, str]:
    """(pages, limit shown, problem) of a USSD screen: the text with the longest navigation line
    the menus add (none on a screen that ends the session), cut into pages as the menus cut it
    (tikabot/flows/ussd_menus.py)."""
    bare = key.startswith("ussd.nav_") or key in END_SCREENS
    screen = text if bare else f"{text}\n{nav(lang, 'back', 'menu')}"
    shown = pages(screen, lang)
    over = [page for page in shown if not fits(page)]
    most = ussd_limit(screen)
    return len(shown), f"{most}c", (f"over a USSD screen: a page of {sms_info(over[0]).units} characters, "
                                    f"{most} fit" if over else "")


def _limit(key: str, text: str, segments: int, units: int) -> tuple[str, str]:
    """(limit shown, problem) for one rendered SMS template."""
    most = None if key in FREE_TEXT else max_segments(key)
    if most is None:
        return "-", ""
    return str(most), (f"over {most} SMS: {segments} segments" if segments > most else "")


def check_templates(real=None, price: float = PRICE, registered: dict | None = None, brand: Brand = CATALOG,
                    on_dlt: Callable[[str], bool] | None = None) -> list[Row]:
    """One row per template and language; `real` (templates_values.RealValues) replaces the samples
    with the database's longest values and adds the day's volume and cost; `registered` holds the
    approved DLT texts ((key, lang) -> [text]) the rendered messages must match. on_dlt(key): may
    this SMS go on a DLT route (default: every registrable one)? Such an SMS is measured ending
    with `brand`, as a domestic route sends it."""
    rows = []
    for key in (k for k in all_keys() if not k.startswith(TELEGRAM_ONLY)):
        for lang in LANGUAGES:
            params = sample_params(key, lang)
            if real is not None:
                params.update({k: v for k, v in real.params.items() if k in params})
            try:
                text = render(key, lang, **params)
            except (KeyError, ValueError, IndexError) as exc:
                rows.append(Row(key, lang, "-", 0, 0, f"cannot render: {exc}"))
                continue
            signed = _is_sms(key) and key not in FREE_TEXT and (on_dlt is None or on_dlt(key))
            info = sms_info(sign_body(text, lang, brand) if signed else text)
            segments = info.segments
            if key.startswith("ussd."):  # the seg column counts the screen's pages
                segments, limit, problem = _ussd(key, text, lang)  # limit: characters with CON/END
            else:
                limit, problem = _limit(key, text, info.segments, info.units)
            per_day = None if real is None else real.per_day.get((key, lang), 0.0)
            cost = None if per_day is None else per_day * segments * price
            dlt = dlt_problems(key, lang, params, text, registered, brand=brand) if _is_sms(key) else []
            rows.append(Row(key, lang, info.encoding, segments, info.units, problem, per_day, cost,
                            "; ".join(dlt), bool(dlt) and dlt[0].startswith("free text"), limit, signed))
    return rows


def _line(r: Row, volume: bool) -> str:
    line = f"{r.key:{KEY_WIDTH}} {r.lang:4} {r.encoding:8} {r.units:>5} {r.segments:>3} {r.limit:>5} {r.status:>5}"
    if volume:
        line += f" {r.per_day or 0:>8.1f} {r.cost_day or 0:>9.2f}"
    return f"{line}  {r.problem}" + (f"  DLT: {r.dlt}" if r.dlt else "")


def report(rows: list[Row], described: str = "measured with sample values (no database)",
           dlt_strict: bool = False, brand: Brand = CATALOG) -> tuple[list[str], bool]:
    volume = any(r.per_day is not None for r in rows)
    head = f"{'template':{KEY_WIDTH}} {'lang':4} {'encoding':8} {'chars':>5} {'seg':>3} {'limit':>5} {'':>5}"
    lines = [head + (f" {'msgs/day':>8} {'cost/day':>9}" if volume else "") + "  problem"]
    lines += [_line(r, volume) for r in rows]
    dlt_bad = [r for r in rows if r.dlt and not r.dlt_free_text]
    bad = [r for r in rows if r.problem] + (dlt_bad if dlt_strict else [])
    lines.append(described)
    signed = sum(r.signed for r in rows)
    brands = " / ".join(f"{brand.text(lang).strip()!r} ({lang})" for lang in LANGUAGES)
    lines.append(f"{signed} SMS that can go on a DLT route measured with its brand {brands} (its length counted)"
                 if signed else "no SMS goes on a DLT route (TIKABOT_ROUTES): measured without the DLT brand "
                 "(its length not counted)")
    free = sum(r.dlt_free_text for r in rows)
    lines.append(f"DLT: {len(dlt_bad)} templates not registrable as they are, {free} free text (routes without DLT)"
                 + ("" if dlt_strict or not dlt_bad else " (--dlt makes these fail the check)"))
    if volume:
        total = sum(r.cost_day or 0 for r in rows)
        segments = sum((r.per_day or 0) * r.segments for r in rows)
        lines.append(f"a day: {segments:.0f} segments, cost {total:.2f}")
    paged = sum(r.key.startswith("ussd.") and r.segments > 1 for r in rows)
    lines.append(f"USSD: {paged} screens longer than one USSD string, shown in pages (98 reads on)")
    lines.append(f"{len(rows)} templates checked, {len(bad)} problems")
    return lines, not bad


import click  # noqa: E402  (the command line part, kept below the pure check)


def _real_values():
    """The database's values, or None when there is none (a CI run): never creates one."""
    from tikabot.core import clock
    from tikabot.cli.context import config as _config
    from tikabot.store.db import make_engine
    from tikabot.dlt.values import database_exists, read

    config = _config()
    if not database_exists(config.database_url):
        return None
    engine = make_engine(config.database_url)
    try:
        return read(engine, clock.now())
    finally:
        engine.dispose()


def _on_dlt(config) -> Callable[[str], bool]:
    """Which SMS may go on a DLT route: those whose traffic the routes table gives a domestic route
    (at any priority)."""
    from tikabot.queue.routes.table import table_for, traffic_kind

    table = table_for(config)
    return lambda key: any(table.is_domestic(route) for priority in ("otp", "reply", "default", "bulk")
                           for route in table.routes_for(traffic_kind(key, priority)))


def _registered() -> dict | None:
    """The approved DLT texts in the database ((key, lang) -> [text]), or None without them."""
    from sqlalchemy import inspect

    from tikabot.cli.context import config as _config
    from tikabot.dlt.store import load
    from tikabot.store.db import make_engine, make_sessionmaker
    from tikabot.dlt.values import database_exists

    config = _config()
    if not database_exists(config.database_url):
        return None
    engine = make_engine(config.database_url)
    try:
        if "dlt_templates" not in inspect(engine).get_table_names():
            return None
        with make_sessionmaker(engine)() as session:
            return {k: [text for text, _ in v] for k, v in load(session).items()} or None
    finally:
        engine.dispose()


@click.group("templates")
def templates() -> None:
    """Message templates."""


@templates.command("check")
@click.option("--quiet", is_flag=True, help="Print only problems and the summary.")
@click.option("--samples", is_flag=True, help="Measure with the sample values even when there is a database.")
@click.option("--price", type=float, default=PRICE, show_default=True, help="Price of one SMS segment.")
@click.option("--dlt", "dlt_strict", is_flag=True, help="Also fail when a template cannot be registered for DLT.")
def check(quiet: bool, samples: bool, price: float, dlt_strict: bool) -> None:
    """Encoding, length, segments and cost of every template in en/bn/hi against its limit, and
    whether each can be registered for DLT; exit 1 if one is OVER (or, with --dlt, a template is
    not registrable)."""
    from tikabot.cli.context import config as _config

    config = _config()
    brand = Brand.of(config)
    real = None if samples else _real_values()
    rows = check_templates(real, price, None if samples else _registered(), brand, _on_dlt(config))
    lines, ok = report(rows, *([real.described] if real else []), dlt_strict=dlt_strict, brand=brand)
    summary = ("98 reads on)", "problems", "database)", "beneficiaries", "(routes without DLT)", "fail the check)",
               "(its length counted)", "(its length not counted)")
    for line in lines if not quiet else [lines[0]] + [
            l for l in lines[1:] if l.rstrip().endswith(summary) or " ERROR " in l
            or " OVER " in l
            or l.startswith("a day:") or (dlt_strict and "DLT: " in l)]:
        click.echo(line)
    raise SystemExit(0 if ok else 1)
