"""Shared helpers for the simulator tests: credentials and a callback receiver."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

from tikabot.simulator.config import FaultConfig

ACCOUNT_SID = "AC" + "a1" * 16
AUTH_TOKEN = "test-auth-token"
SENDER = "+15005550006"
RECIPIENT = "+8801712345678"


def make_test_config() -> FaultConfig:
    return FaultConfig(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, seed=7,
                       sent_delay_s=0.01, delivered_delay_s=0.01,
                       callback_retry_delay_s=0.05, timeout_sleep_s=1.0)


class CallbackReceiver:
    """A small local server standing in for our status-callback endpoint."""

    def __init__(self, fail_first: int = 0):
        self.received: list[dict] = []
        self.fail_first = fail_first
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                params = dict(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
                with receiver.arrived:
                    failing = receiver.fail_first > 0
                    receiver.fail_first -= 1 if failing else 0
                    receiver.received.append({"path": self.path, "params": params,
                                              "signature": self.headers.get("X-Twilio-Signature"),
                                              "failed": failing})
                    receiver.arrived.notify_all()
                self.send_response(500 if failing else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/status"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def wait_for(self, count: int, timeout: float = 15.0) -> list[dict]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.received) >= count, timeout)
            return list(self.received)
