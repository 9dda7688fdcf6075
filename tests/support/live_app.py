"""Our Flask app served on a loopback port, so the simulator's webhooks and callbacks reach the real
endpoints over HTTP (signed as the provider signs them, against the app's own public URL)."""
from __future__ import annotations

import dataclasses
import threading

import pytest
from werkzeug.serving import make_server


class LiveApp:
    def __init__(self, config, send_settings=None, port: int = 0):
        from tikabot.app import create_app

        if not port:  # any free port; a fixed one where a provider was told where to call (Kannel's get-url)
            probe = make_server("127.0.0.1", 0, lambda environ, start: [])
            port = probe.server_port
            probe.server_close()
        self.url = f"http://127.0.0.1:{port}"
        self.config = dataclasses.replace(config, public_base_url=self.url)
        self.app = create_app(self.config)
        if send_settings is not None:
            self.app.extensions["tikabot_send_settings"] = send_settings
        self.server = make_server("127.0.0.1", port, self.app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def services(self):
        return self.app.extensions["tikabot"]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.app.extensions["tikabot"].close()


@pytest.fixture
def start_live_app():
    """start_live_app(config, send_settings=None, port=0) -> a LiveApp, stopped after the test."""
    started: list[LiveApp] = []

    def start(config, send_settings=None, port: int = 0) -> LiveApp:
        started.append(LiveApp(config, send_settings, port))
        return started[-1]

    yield start
    for app in reversed(started):
        app.stop()
