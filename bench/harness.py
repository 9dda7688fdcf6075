"""Shared set-up for bench/dispatch.py and bench/chaos_outbox.py: embedded Redis, a migrated SQLite,
the provider simulator in its own process, `tikabot worker` processes, and CPU accounting."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tikabot.config import Config  # noqa: E402
from tikabot.stack.processes import free_port, wait_for_port  # noqa: E402
from tikabot.stack.redis_server import EmbeddedRedis  # noqa: E402
from tikabot.services import Services  # noqa: E402
from tikabot.store.db import make_engine  # noqa: E402
from tikabot.store.migrate import upgrade  # noqa: E402

ACCOUNT_SID = "AC" + "7" * 32
AUTH_TOKEN = "bench-auth-token"
SENDER = "+15005550006"
TICKS = os.sysconf("SC_CLK_TCK")


class Stack:
    """Everything but the workers; `start_worker()` adds those."""

    def __init__(self, send_rate: float, public_base_url: str | None = None, sim_config: dict | None = None,
                 extra_env: dict | None = None):
        self.tmp = tempfile.TemporaryDirectory(prefix="tikabot-bench-")
        self.redis_server = EmbeddedRedis(Path(self.tmp.name) / "redis")
        self.redis_url = self.redis_server.start()
        self.database_url = f"sqlite:///{self.tmp.name}/bench.db"
        engine = make_engine(self.database_url)
        upgrade(engine)
        engine.dispose()
        self.sim_port = free_port()
        self.sim_url = f"http://127.0.0.1:{self.sim_port}"
        fields = {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "callback_retries": 0,
                  **(sim_config or {})}
        code = ("import sys; from tikabot.simulator.server import run; "
                "from tikabot.simulator.config import FaultConfig; import json; "
                f"run('127.0.0.1', {self.sim_port}, FaultConfig(**json.loads(sys.argv[1])))")
        self.simulator = subprocess.Popen([sys.executable, "-c", code, json.dumps(fields)], cwd=ROOT)
        wait_for_port(self.sim_port)
        self.config = Config(database_url=self.database_url, redis_url=self.redis_url,
                             twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN,
                             twilio_from=SENDER, twilio_api_base=self.sim_url, twilio_timeout=5.0,
                             public_base_url=public_base_url, send_rate=send_rate)
        self.env = {**os.environ, "DATABASE_URL": self.database_url, "REDIS_URL": self.redis_url,
                    "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                    "TWILIO_FROM": SENDER, "TWILIO_API_BASE": self.sim_url, "TWILIO_TIMEOUT": "5",
                    "SEND_RATE": str(send_rate), **(extra_env or {})}
        if public_base_url:
            self.env["PUBLIC_BASE_URL"] = public_base_url
        else:
            self.env.pop("PUBLIC_BASE_URL", None)
        self.services = Services.build(self.config)
        self.workers: list[subprocess.Popen] = []

    def start_worker(self) -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, "-m", "tikabot", "worker"], cwd=ROOT, env=self.env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.workers.append(proc)
        return proc

    def sim_get(self, path: str):
        with urllib.request.urlopen(self.sim_url + path, timeout=60) as response:
            return json.loads(response.read())

    def sim_post(self, path: str, body: dict):
        request = urllib.request.Request(self.sim_url + path, data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def close(self) -> None:
        for proc in self.workers + [self.simulator]:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self.services.close()
        self.redis_server.stop()
        self.tmp.cleanup()


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process and its live children (the OTP lane)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / TICKS
    return total


def wait_until(predicate, timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
