"""Can a few slow clients starve the web tier? Starts the web process exactly as the Procfile ships it
(its `web:` line, gunicorn with `tikabot.stack.gunicorn_conf`) on loopback, with an embedded Redis and a
migrated SQLite, opens N connections that send a request's headers one byte a second, and meanwhile
sends normal signed Twilio inbound SMS, one after another, timing each answer.

    .venv/bin/python bench/slow_clients.py [--slow 3,20,60] [--probes 5] [--probe-timeout 10] [--json]

A probe not answered within --probe-timeout seconds counts as starved. Exit status 0 when every
probe of every round was answered 200 and gunicorn opened no control socket.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tikabot.stack.processes import free_port, wait_for_port  # noqa: E402
from tikabot.stack.redis_server import EmbeddedRedis  # noqa: E402
from tikabot.store.db import make_engine  # noqa: E402
from tikabot.store.migrate import upgrade  # noqa: E402

AUTH_TOKEN = "bench-auth-token"
ACCOUNT_SID = "AC" + "7" * 32


def procfile_web_command() -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            return line.split(":", 1)[1].strip()
    raise RuntimeError("the Procfile has no web: line")


class WebTier:
    """The Procfile's web process on a loopback port, with what it needs to accept an SMS."""

    def __init__(self, work: Path):
        self.redis = EmbeddedRedis(work / "redis")
        redis_url = self.redis.start()
        database_url = f"sqlite:///{work / 'web.db'}"
        engine = make_engine(database_url)
        upgrade(engine)
        engine.dispose()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        bin_dir = str(Path(sys.executable).parent)
        env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""), "PORT": str(self.port),
               "DATABASE_URL": database_url, "REDIS_URL": redis_url, "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
               "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "PUBLIC_BASE_URL": self.url, "OTP_SECRET": "bench",
               "TIKABOT_SPOOL_DIR": str(work / "spool"), "HOME": str(work)}
        env.pop("WEB_CONCURRENCY", None)
        env.pop("TIKABOT_WEB_HOST", None)
        env.pop("XDG_RUNTIME_DIR", None)  # so that a control socket would be under HOME
        self.log = open(work / "web.log", "ab")
        self.proc = subprocess.Popen(["sh", "-c", "exec " + procfile_web_command()], cwd=ROOT, env=env,
                                     stdout=self.log, stderr=self.log)
        wait_for_port(self.port)
        self.home = work
        self.validator = RequestValidator(AUTH_TOKEN)
        self.sent = 0

    def probe(self, timeout: float) -> float | None:
        """One signed inbound SMS; seconds to its 200, None when not answered in time."""
        self.sent += 1
        url = f"{self.url}/sms/inbound"
        form = {"MessageSid": f"SM{self.sent:032d}", "AccountSid": ACCOUNT_SID, "From": "+919830012345",
                "To": "+15005550006", "Body": "HELP", "NumMedia": "0"}
        headers = {"X-Twilio-Signature": self.validator.compute_signature(url, form)}
        started = time.monotonic()
        try:
            response = requests.post(url, data=form, headers=headers, timeout=timeout)
        except requests.RequestException:
            return None
        return time.monotonic() - started if response.status_code == 200 else None

    def control_sockets(self) -> list[str]:
        """gunicorn 25.1+ opens a control socket under $HOME/.gunicorn unless told not to."""
        return [path.name for path in (self.home / ".gunicorn").glob("*")]

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.redis.stop()
        self.log.close()


class SlowClients:
    """N connections, each sending a request head one byte a second until stopped."""

    HEAD = b"POST /sms/inbound HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"a" * 4000

    def __init__(self, port: int, count: int):
        self.port = count and port
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._feed, daemon=True) for _ in range(count)]
        for thread in self.threads:
            thread.start()

    def _feed(self) -> None:
        while not self.stop.is_set():  # a connection the server closed is opened again, as an attacker would
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
                    for byte in self.HEAD:
                        sock.sendall(bytes([byte]))
                        if self.stop.wait(1.0):
                            return
            except OSError:
                self.stop.wait(0.2)

    def close(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=5)


def round_of(web: WebTier, slow: int, probes: int, probe_timeout: float) -> dict:
    clients = SlowClients(web.port, slow)
    try:
        time.sleep(2.0 if slow else 0.0)  # let every slow connection reach a worker and start its head
        latencies = [web.probe(probe_timeout) for _ in range(probes)]
    finally:
        clients.close()
    answered = [s for s in latencies if s is not None]
    return {"slow_clients": slow, "probes": probes, "answered": len(answered),
            "median_ms": round(statistics.median(answered) * 1000, 1) if answered else None,
            "max_ms": round(max(answered) * 1000, 1) if answered else None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slow", default="0,3,20,60", help="slow-client counts, comma-separated, one round each")
    parser.add_argument("--probes", type=int, default=5)
    parser.add_argument("--probe-timeout", type=float, default=10.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    rounds = []
    control: list[str] = []
    with tempfile.TemporaryDirectory(prefix="tikabot-slow-") as tmp:
        web = WebTier(Path(tmp))
        try:
            web.probe(30.0)  # the first request loads the app in a worker
            control = web.control_sockets()
            if not args.json:
                print(f"control socket: {', '.join(control) or 'none'}")
            for count in (int(n) for n in args.slow.split(",")):
                rounds.append(round_of(web, count, args.probes, args.probe_timeout))
                if not args.json:
                    r = rounds[-1]
                    print(f"{r['slow_clients']:>4} slow clients: {r['answered']}/{r['probes']} signed SMS answered "
                          f"within {args.probe_timeout:.0f} s; median {r['median_ms']} ms, max {r['max_ms']} ms")
        finally:
            web.close()
    if args.json:
        print(json.dumps({"web": shlex.split(procfile_web_command())[:1], "control_sockets": control,
                          "rounds": rounds}))
    return 0 if all(r["answered"] == r["probes"] for r in rounds) and not control else 1


if __name__ == "__main__":
    sys.exit(main())
