"""Applying delivery reports still kept for a send whose record has committed, as a periodic job
(tasks/schedule.py): the send job and the report's own request each look once (queue/early.py);
when both missed it, the message would stay `accepted` for good though its report came."""
from __future__ import annotations

from tikabot import services as process
from tikabot.queue import early
from tikabot.queue.callbacks import apply_kept
from tikabot.queue.settings import SendSettings


def run_early_reports() -> int:
    """Reports applied; those whose provider id no row holds yet stay kept (until they expire)."""
    services = process.of_process()
    return len(apply_kept(services, early.kept_ids(services.redis), settings=SendSettings.from_env()))
