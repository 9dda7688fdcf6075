"""Charts as PNG bytes, drawn with matplotlib's Agg backend (no display, safe in any process)."""
from __future__ import annotations

import io
from datetime import date

from matplotlib.figure import Figure

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
