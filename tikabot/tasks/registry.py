"""The registry sync as a periodic job (tasks/schedule.py, when UPSTREAM_FHIR_BASE is set): one sync
pass, then the check for records unsynced too long. Safe to run twice at once, as conditional
creates are."""
from __future__ import annotations

from tikabot import services as process
from tikabot.core import clock
from tikabot.registry.settings import RegistrySettings
from tikabot.registry.stale import check_stale, make_client
from tikabot.registry.sync import sync_pass


def run_sync() -> dict:
    settings = RegistrySettings.from_env()
    if not settings.base_url:
        return {}
    services = process.of_process()
    client = make_client(settings)
    try:
        result = sync_pass(services.sessions, client, settings, services.config.tz)
        with services.transaction() as session:
            check_stale(session, clock.now(), services.config.tz, settings)
        return dict(result.outcomes)
    finally:
        client.close()
