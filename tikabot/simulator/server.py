"""Running the simulator: as an aiohttp app, in a background thread, or from the CLI."""

from __future__ import annotations

import asyncio
import re
import socket
import threading
from typing import Callable, Optional

from aiohttp import web

from tikabot.core.phones import mask
from tikabot.simulator import (cdac_api, control, exotel_api, fhir_api, kannel_api, nic_api, smsgate_api, telegram_api,
                               twilio_api)
from tikabot.simulator.appkeys import SIM
from tikabot.simulator.config import FaultConfig, config_with_fail_rate
from tikabot.simulator.records import MessageRecord
from tikabot.simulator.state import Simulator

SHUTDOWN_TIMEOUT = 0.5


def build_app(sim: Simulator) -> web.Application:
    app = web.Application(client_max_size=50 * 1024 * 1024)
    app[SIM] = sim
    twilio_api.add_routes(app)
    telegram_api.add_routes(app)
    control.add_routes(app)
    fhir_api.add_routes(app)
    smsgate_api.add_routes(app)
    exotel_api.add_routes(app)
    cdac_api.add_routes(app)
    nic_api.add_routes(app)
    kannel_api.add_routes(app)
    app.on_startup.append(sim.start)
    app.on_cleanup.append(sim.close)
    return app


class SimulatorThread:
    """The simulator on a free loopback port, served from a background thread.

    ``base_url = SimulatorThread(config).start()``; read ``.sim`` in process; ``.stop()``.
    """

    def __init__(self, config: Optional[FaultConfig] = None, host: str = "127.0.0.1",
                 port: int = 0, on_message: Optional[Callable[[MessageRecord], None]] = None):
        self.sim = Simulator(config, on_message=on_message)
        self.host, self.port = host, port
        self.url = ""
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread: Optional[threading.Thread] = None
        self._ready = threading.Event()
        self._error: Optional[BaseException] = None

    def start(self) -> str:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        self.url = f"http://{self.host}:{self.port}"
        self._thread = threading.Thread(target=self._serve, args=(sock,),
                                        name="provider-simulator", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise RuntimeError("simulator failed to start") from self._error
        return self.url

    def _serve(self, sock: socket.socket) -> None:
        loop = self._loop = asyncio.new_event_loop()
        runner = web.AppRunner(build_app(self.sim), access_log=None,
                               shutdown_timeout=SHUTDOWN_TIMEOUT)
        try:
            loop.run_until_complete(runner.setup())
            loop.run_until_complete(web.SockSite(runner, sock).start())
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(runner.cleanup())
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
            sock.close()

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def __enter__(self) -> "SimulatorThread":
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


CODE = re.compile(r"(?<![0-9])[0-9]{4,8}(?![0-9])")  # an OTP (6) or a security code (4); not a REF


def without_codes(text: str) -> str:
    """text with every code-shaped number masked: a log is no place for a verification code."""
    return CODE.sub(lambda m: "*" * len(m.group()), text)


def print_message(record: MessageRecord) -> None:
    outcome = record.final_status + (f" {record.error_code}" if record.error_code else "")
    print(f"SMS {record.sid} to {mask(record.to)}, {record.num_segments} segment(s), "
          f"will end {outcome}: {without_codes(record.body[:60])!r}", flush=True)


def run(host: str, port: int, config: Optional[FaultConfig] = None,
        on_message: Optional[Callable[[MessageRecord], None]] = None) -> None:
    """Serve until interrupted (Ctrl-C / SIGTERM)."""
    app = build_app(Simulator(config, on_message=on_message))
    web.run_app(app, host=host, port=port, access_log=None,
                shutdown_timeout=SHUTDOWN_TIMEOUT, print=None)


def serve_forever(port: int, fail_rate: float, account_sid: str, auth_token: str,
                  host: str = "127.0.0.1") -> None:
    """Entry point for ``tikabot simulator``: print each message received, masked."""
    config = config_with_fail_rate(fail_rate, account_sid=account_sid, auth_token=auth_token)
    print(f"Provider simulator on http://{host}:{port} (Twilio API base and "
          f"Telegram base_url http://{host}:{port}/bot; UPSTREAM_FHIR_BASE http://{host}:{port}/fhir; "
          f"EXOTEL_API_BASE http://{host}:{port}; gateway phones at http://{host}:{port}/smsgate/<id>), "
          f"fail rate {fail_rate:.1%}", flush=True)
    run(host, port, config, on_message=print_message)
