"""The coordinator alert checks as a periodic job (tasks/schedule.py): sites not opened or silent,
OTPs that did not arrive, unacknowledged alerts to escalate."""
from __future__ import annotations

from tikabot import services as process
from tikabot.alerts.checks import check_alerts
from tikabot.alerts.state import AckTimes
from tikabot.core import clock


def run_alert_checks() -> int:
    services = process.of_process()
    config = services.config
    with services.transaction() as session:
        return len(check_alerts(session, clock.now(), config.tz, medical_officers=config.medical_officers,
                                telegram=bool(config.telegram_bot_token), ack_times=AckTimes.from_config(config)))
