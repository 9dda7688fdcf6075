"""Applying a translated status report from any channel's callback: one place for every endpoint."""
from __future__ import annotations

import logging

from flask import current_app

from tikabot.core.clock import now
from tikabot.queue.callbacks import KEPT, apply_kept, apply_report
from tikabot.core.sending import StatusReport
from tikabot.queue.settings import SendSettings

log = logging.getLogger(__name__)


def send_settings() -> SendSettings:
    settings = current_app.extensions.get("tikabot_send_settings")
    if settings is None:  # read once per app, not on every report
        settings = current_app.extensions["tikabot_send_settings"] = SendSettings.from_env()
    return settings


def apply(services, report: StatusReport) -> str:
    """Move the outbox row the report names (forward only) or plan its retry; returns what happened."""
    with services.transaction() as session:
        result = apply_report(session, report, now=now(), settings=send_settings(), redis=services.redis)
    if result == KEPT:  # before the send's record; unless that record committed meanwhile (queue/early.py)
        result = apply_kept(services, [report.provider_id], settings=send_settings()).get(report.provider_id, result)
    log.info("status %s for %s: %s", report.status, report.provider_id, result)
    return result
