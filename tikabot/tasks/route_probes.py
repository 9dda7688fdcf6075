"""Probing routes that are recovering, as a periodic job (tasks/schedule.py, when TIKABOT_ROUTES is
set): a route that answers is brought back (tikabot/queue/routes/health.py)."""
from __future__ import annotations

from tikabot.queue import runtime
from tikabot.queue.routes.send import probe_recovering


def run_probes() -> int:
    rt = runtime.current()
    return sum(rt.run(probe_recovering(rt)).values())
