"""A Redis that hangs: a TCP server on a free loopback port that accepts every connection and never
answers a byte. It counts the connections it accepted (a client that retried would open more)."""
from __future__ import annotations

import socket
import threading
from contextlib import contextmanager


class HungRedis:
    def __init__(self):
        self._server = socket.socket()
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(64)
        self.connections: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self._server.getsockname()[1]}/0"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:  # closed
                return
            self.connections.append(conn)  # held open, never read, never answered

    def close(self) -> None:
        try:
            self._server.shutdown(socket.SHUT_RDWR)  # wakes the accept() below (close alone does not)
        except OSError:
            pass
        self._server.close()
        for conn in self.connections:
            conn.close()
        self._thread.join()


@contextmanager
def hung_redis():
    server = HungRedis()
    try:
        yield server
    finally:
        server.close()
