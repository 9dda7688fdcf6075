"""Asking Twilio about messages whose status callbacks never came, as a periodic job (tasks/schedule.py)."""
from __future__ import annotations

from tikabot import services as process
from tikabot.handlers.twilio_client import make_client
from tikabot.queue.status_poll import poll_stuck


def run_status_poll() -> int:
    services = process.of_process()
    config = services.config
    client = make_client(config.twilio_account_sid or "", config.twilio_auth_token or "",
                         config.twilio_api_base, timeout=config.twilio_timeout)
    try:
        return poll_stuck(services, client)
    finally:
        client.http_client.close()
