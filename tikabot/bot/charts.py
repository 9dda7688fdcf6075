"""Charts as PNG bytes, drawn with matplotlib's Agg backend (no display, safe in any process).

Labels in Bengali and Hindi are shaped by HarfBuzz and drawn as glyph outlines (tikabot/bot/shaping.py):
matplotlib alone would break their conjuncts."""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ticker import MaxNLocator

from tikabot.bot import shaping
from tikabot.core.clock import as_utc
from tikabot.i18n.catalog import render
from tikabot.i18n.numbers import native_digits
from tikabot.bot.plan import expected_by, session_hours

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def doses_chart(day: date, per_site: dict[str, int], per_hour: dict[int, int]) -> bytes:
    """Two panels: doses per site today, and doses per local hour."""
    # Figure() with savefig uses the Agg canvas directly; no pyplot global state, nothing to close.
    figure = Figure(figsize=(9, 7), dpi=100, layout="constrained")
    by_site, by_hour = figure.subplots(2, 1)
    codes = list(per_site) or ["(no sites)"]
    by_site.bar(codes, [per_site.get(c, 0) for c in codes], color="#2b7bb9")
    by_site.set_title(f"Doses per site, {day.isoformat()}")
    by_site.set_ylabel("doses")
    by_site.tick_params(axis="x", labelrotation=45 if len(codes) > 8 else 0)
    hours = list(range(24))
    by_hour.bar(hours, [per_hour.get(h, 0) for h in hours], color="#3a9d5d")
    by_hour.set_title("Doses per hour (local time)")
    by_hour.set_xlabel("hour")
    by_hour.set_ylabel("doses")
    by_hour.set_xticks(hours[::2])
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


# --- against plan (issue 18) -------------------------------------------------------------------

@dataclass
class SiteSeries:
    """One site's day for the charts: when each dose was given, the booked slots, done and due."""
    code: str
    name: str  # in the reader's language
    dose_times: list[datetime]
    slots: list[str]
    due: int
    behind_by: int = 0

    @property
    def done(self) -> int:
        return len(self.dose_times)


BEHIND_COLOUR, GIVEN_COLOUR, PLAN_COLOUR = "#c62828", "#2b7bb9", "#555555"
MAX_PANELS = 12  # sites on one plan chart (most behind first): a phone shows no more legibly
MAX_BARS = 40  # sites on one day summary (lowest share first)


class Labels:
    """Text on a chart in the reader's language: shaped glyphs (tikabot/bot/shaping.py) for Bengali
    and Hindi, matplotlib's own text for English or where no shaping font is installed."""

    def __init__(self, lang: str):
        self.font = shaping.font_for(lang) if lang != "en" else None
        self.lang = lang if (lang == "en" or self.font is not None) else "en"
        self.digits = FontProperties(fname=self.font.path) if self.font else None

    def say(self, key: str, **params) -> str:
        return render(key, self.lang, **params)

    def put(self, figure: Figure, x: float, y: float, text: str, *, size: float = 10, color: str = "black",
            ha: str = "left", transform=None) -> None:
        transform = transform if transform is not None else figure.transFigure
        if self.font is None:
            figure.text(x, y, text, fontsize=size, color=color, ha=ha, va="baseline", transform=transform)
        else:
            figure.add_artist(shaping.ShapedText((x, y), text, self.font, transform=transform, size=size,
                                                 color=color, ha=ha))

    def ticks(self, axis, labels: list[str]) -> None:
        axis.set_ticklabels([native_digits(t, self.lang) for t in labels],
                            fontproperties=self.digits if self.digits else None)


def _hours(start: datetime, end: datetime, zone) -> list[datetime]:
    first = start.astimezone(zone).replace(minute=0, second=0, microsecond=0)
    out, moment = [], first
    while moment <= end.astimezone(zone) + timedelta(minutes=1):
        out.append(moment)
        moment += timedelta(hours=1)
    return out


def plan_chart(day: date, sites: list[SiteSeries], now: datetime, tz: str, lang: str = "en") -> bytes:
    """Per site: cumulative doses through the session hours against the line its booked slots
    expect; a site behind plan is drawn red. Sites most behind first, MAX_PANELS of them."""
    labels, zone = Labels(lang), ZoneInfo(tz)
    sites = sorted(sites, key=lambda s: (-s.behind_by, s.code))[:MAX_PANELS] or [SiteSeries("-", "-", [], [], 0)]
    cols = 3 if len(sites) > 4 else max(1, min(len(sites), 2))
    rows = -(-len(sites) // cols)
    figure = Figure(figsize=(4.2 * cols, 2.6 * rows + 1.3), dpi=100)
    top = 1 - 1.2 / figure.get_figheight()
    figure.subplots_adjust(left=0.07, right=0.98, bottom=0.35 / figure.get_figheight() + 0.02, top=top,
                           hspace=0.75, wspace=0.25)
    axes = figure.subplots(rows, cols, squeeze=False).ravel()
    for ax in axes[len(sites):]:
        ax.set_visible(False)
    for ax, site in zip(axes, sites):
        start, end = session_hours(site.slots, day, tz)
        end = max(end, min(now, end + timedelta(hours=2)))
        steps = [start + (end - start) * i / 60 for i in range(61)]
        ax.plot(steps, [expected_by(site.slots, t, day, tz) for t in steps], "--", color=PLAN_COLOUR, lw=1.2)
        given = sorted(as_utc(t) for t in site.dose_times if as_utc(t) <= as_utc(now))
        xs = [start] + given + [min(now, end)]
        ax.step(xs, [0] + list(range(1, len(given) + 1)) + [len(given)], where="post",
                color=BEHIND_COLOUR if site.behind_by else GIVEN_COLOUR, lw=2)
        if site.behind_by:
            ax.set_facecolor("#fdecea")
        ax.set_ylim(0, max(site.due, site.done, 1) * 1.1)
        hours = _hours(start, end, zone)
        ax.set_xticks(hours)
        labels.ticks(ax.xaxis, [f"{h:%H}" for h in hours])
        ax.yaxis.set_major_locator(MaxNLocator(5, integer=True))
        ax.set_yticks([v for v in ax.get_yticks() if 0 <= v <= ax.get_ylim()[1]])
        labels.ticks(ax.yaxis, [f"{int(v)}" for v in ax.get_yticks()])
        title = labels.say("bot.chart_site", code=site.code, name=site.name, done=site.done, due=site.due)
        if site.behind_by:
            title += labels.say("bot.chart_behind", count=site.behind_by)
        labels.put(figure, 0.0, 1.06, title, size=9, color=BEHIND_COLOUR if site.behind_by else "black",
                   transform=ax.transAxes)
    labels.put(figure, 0.07, 1 - 0.4 / figure.get_figheight(),
               labels.say("bot.chart_plan_title", date=day if labels.lang != "en" else day.isoformat(),
                          time=native_digits(as_utc(now).astimezone(zone).strftime("%H:%M"), labels.lang)), size=13)
    labels.put(figure, 0.07, 1 - 0.7 / figure.get_figheight(), labels.say("bot.chart_key"), size=9,
               color=PLAN_COLOUR)
    return _png(figure)


def day_summary_chart(day: date, sites: list[SiteSeries], tz: str, lang: str = "en") -> bytes:
    """After END: each site's doses against the people booked, the day's share (of every site) in the title."""
    labels = Labels(lang)
    done, due = sum(s.done for s in sites), sum(s.due for s in sites)
    sites = (sorted(sites, key=lambda s: (s.done / s.due if s.due else 1.0, s.code))[:MAX_BARS]
             or [SiteSeries("-", "-", [], [], 0)])
    figure = Figure(figsize=(9, 1.2 + 0.45 * len(sites)), dpi=100)
    height = figure.get_figheight()
    figure.subplots_adjust(left=0.32, right=0.96, top=1 - 0.8 / height, bottom=0.4 / height + 0.02)
    ax = figure.subplots()
    rows = list(range(len(sites)))[::-1]
    ax.barh(rows, [s.due for s in sites], color="#d6e4f0", height=0.7)
    ax.barh(rows, [s.done for s in sites], color=[BEHIND_COLOUR if s.due and s.done / s.due < 0.8 else GIVEN_COLOUR
                                               for s in sites], height=0.45)
    ax.set_yticks(rows)
    ax.set_yticklabels([""] * len(rows))
    for row, site in zip(rows, sites):
        share = round(100 * site.done / site.due) if site.due else 0
        labels.put(figure, -0.02, row, labels.say("bot.chart_summary_site", code=site.code, name=site.name,
                                                  done=site.done, due=site.due, share=share),
                   size=9, ha="right", transform=ax.get_yaxis_transform())
    ax.xaxis.set_major_locator(MaxNLocator(8, integer=True))
    ax.set_xticks([v for v in ax.get_xticks() if 0 <= v <= ax.get_xlim()[1]])
    labels.ticks(ax.xaxis, [f"{int(v)}" for v in ax.get_xticks()])
    labels.put(figure, 0.02, 1 - 0.45 / height, labels.say(
        "bot.chart_summary_title", date=day if labels.lang != "en" else day.isoformat(), done=done, due=due,
        share=round(100 * done / due) if due else 0), size=13)
    return _png(figure)


def _png(figure: Figure) -> bytes:
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
