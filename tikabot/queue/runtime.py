"""What a worker process keeps between jobs: services, one event loop, one sender per channel
(so HTTP connections are reused across jobs), and the bulk throttle.

Jobs take message ids only and find everything else here. `install(services)` sets it up
by the process that runs jobs: the worker (tikabot/stack/worker.py), tests and benchmarks.
"""
from __future__ import annotations

import asyncio
import dataclasses

from tikabot.queue.routes import send as route_send
from tikabot.queue.senders import SENDERS
from tikabot.queue.settings import SendSettings
from tikabot.core.throttle import Throttle


class Runtime:
    def __init__(self, services, settings: SendSettings | None = None):
        self.services = services
        self.settings = settings or SendSettings.from_env()
        self.loop = asyncio.new_event_loop()
        self.senders: dict = {}
        config = services.config
        sender_name = config.twilio_from or config.twilio_messaging_service_sid or "default"
        self.throttle = Throttle(services.redis, config.send_rate, sender_name)
        self._router = None
        self._router_built = False

    @property
    def router(self):
        """The SMS router (queue/routes/send.py), or None when Twilio alone carries everything."""
        if not self._router_built:
            self._router = route_send.build(self.services, SENDERS)
            self._router_built = True
        return self._router

    def configure_routes(self, routes: str, dlt_routes: str | None = None, health=None):
        """Set the routes in code (a rehearsal's --channels): TIKABOT_ROUTES syntax; health:
        route_health.HealthSettings. Returns the router (None for Twilio alone)."""
        config = dataclasses.replace(self.services.config, routes=routes,
                                     dlt_routes=self.services.config.dlt_routes if dlt_routes is None else dlt_routes)
        self._router = route_send.build(_WithConfig(self.services, config), SENDERS, health)
        self._router_built = True
        return self._router

    def sender(self, channel: str):
        if channel not in self.senders:
            self.senders[channel] = SENDERS[channel](self.services.config)
        return self.senders[channel]

    def run(self, coroutine):
        return self.loop.run_until_complete(coroutine)

    def close(self) -> None:
        for sender in self.senders.values():
            self.loop.run_until_complete(sender.close())
        self.senders.clear()
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()


class _WithConfig:
    """The services with another config (routes set in code); everything else is theirs."""

    def __init__(self, services, config):
        self._services, self.config = services, config

    def __getattr__(self, name):
        return getattr(self._services, name)


_current: Runtime | None = None


def install(services, settings: SendSettings | None = None) -> Runtime:
    global _current
    uninstall()
    _current = Runtime(services, settings)
    return _current


def uninstall() -> None:
    global _current
    if _current is not None:
        _current.close()
        _current = None


def current() -> Runtime:
    """This process's runtime. Installed by the worker process (tikabot/stack/worker.py) with the
    process's services, and by tests and benchmarks with theirs."""
    if _current is None:
        raise RuntimeError("no send runtime in this process: send jobs run in `tikabot worker`, "
                           "which installs one (queue/runtime.install)")
    return _current
