"""Asking Twilio, and the gateway phones, about messages whose status reports never came, as a
periodic job (tasks/schedule.py)."""
from __future__ import annotations

from tikabot import services as process
from tikabot.handlers.twilio_client import make_client
from tikabot.queue import runtime
from tikabot.queue.status_poll import poll_gateway, poll_stuck


def run_status_poll() -> int:
    services = process.of_process()
    config = services.config
    client = make_client(config.twilio_account_sid or "", config.twilio_auth_token or "",
                         config.twilio_api_base, timeout=config.twilio_timeout)
    try:
        changed = poll_stuck(services, client)
    finally:
        client.http_client.close()
    if config.smsgate_phones:  # the worker's runtime: its event loop and its gateway sender
        rt = runtime.current()
        changed += rt.run(poll_gateway(services, rt.sender("android"), settings=rt.settings))
    return changed
