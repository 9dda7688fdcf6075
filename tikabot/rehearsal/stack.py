"""Everything a rehearsal runs, on loopback: Redis, simulator, web, workers. Killable on purpose."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tikabot.stack.processes import SIMULATOR_ACCOUNT_SID, SIMULATOR_AUTH_TOKEN, free_port, stop_all, wait_for_port
from tikabot.stack.redis_server import EmbeddedRedis
from tikabot.store.db import make_engine
from tikabot.store.migrate import upgrade

SENDER = "+15005550006"
TWILIO_TIMEOUT_S = 3
USSD_TOKEN = "rehearsal-ussd-token"
TELEGRAM_TOKEN = "123456:rehearsal-bot-token"
MEDICAL_OFFICER = "+919830012399"  # every SEVERE side effect reaches this phone by SMS
REGISTRY_TIMEOUT_S = 2
REGISTRY_SYSTEM = "urn:tikabot-rehearsal"  # whatever the operator's shell says: the rehearsal's own ids, no token
REGISTRY = {"TIKABOT_SYNC_EVERY": "3", "TIKABOT_SYNC_RETRY_BASE": "0.3", "UPSTREAM_FHIR_TIMEOUT": str(REGISTRY_TIMEOUT_S),
            "TIKABOT_FHIR_SYSTEM": REGISTRY_SYSTEM, "UPSTREAM_FHIR_TOKEN": ""}
TIME_SCALE = {"TIKABOT_RETRY_BASE": "0.3", "TIKABOT_SLOW_RETRY_BASE": "1", "TIKABOT_SEND_LEASE": "10",
              "TIKABOT_STALE_AFTER": "5", "OTP_VOICE_AFTER": "15",
              "TIKABOT_STATUS_POLL_AFTER": "10"}


@dataclass
class Stack:
    folder: Path
    fail_rate: float
    seed: int
    workers: int
    web_port: int = 0
    sim_port: int = 0
    redis: EmbeddedRedis | None = None
    sim: subprocess.Popen | None = None
    web: subprocess.Popen | None = None
    worker_procs: list[subprocess.Popen] = field(default_factory=list)
    extra: list[subprocess.Popen] = field(default_factory=list)
    extra_env: dict = field(default_factory=dict)  # e.g. the routes and Indian channels (rehearsal/india.py)
    sim_config: dict = field(default_factory=dict)  # simulator settings no flag carries (its gateway phones)

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.folder / 'tikabot.db'}"

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def sim_url(self) -> str:
        return f"http://127.0.0.1:{self.sim_port}"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(DATABASE_URL=self.database_url, REDIS_URL=self.redis.url,
                   TWILIO_ACCOUNT_SID=SIMULATOR_ACCOUNT_SID, TWILIO_AUTH_TOKEN=SIMULATOR_AUTH_TOKEN,
                   TWILIO_API_BASE=self.sim_url, TWILIO_FROM=SENDER, TWILIO_TIMEOUT=str(TWILIO_TIMEOUT_S),
                   PUBLIC_BASE_URL=self.web_url, USSD_TOKEN=USSD_TOKEN, OTP_SECRET="rehearsal-otp-secret",
                   TELEGRAM_BOT_TOKEN=TELEGRAM_TOKEN, TELEGRAM_API_BASE=f"{self.sim_url}/bot",
                   SEND_RATE="500", PYTHONUNBUFFERED="1",
                   # the synthetic day is played whatever the hour: appointment messages are not held back
                   TIKABOT_QUIET_HOURS="off",
                   TIKABOT_MEDICAL_OFFICERS=MEDICAL_OFFICER,
                   # a day compressed into minutes: back-offs, leases and fallbacks shrink with it
                   **TIME_SCALE,
                   # the workers sync the day's doses to the simulator's FHIR registry as they come
                   UPSTREAM_FHIR_BASE=f"{self.sim_url}/fhir", **REGISTRY)
        env.update(self.extra_env)
        return env

    def start_base(self) -> None:
        """Database and Redis: what the district import needs."""
        self.folder.mkdir(parents=True, exist_ok=True)
        engine = make_engine(self.database_url)
        upgrade(engine)
        engine.dispose()
        self.redis = EmbeddedRedis(self.folder / "redis")
        self.redis.start()
        self.web_port, self.sim_port = free_port(), free_port()

    def start_services(self) -> None:
        logs = self.folder / "logs"
        logs.mkdir(exist_ok=True)
        self.sim = self._spawn("simulator", [sys.executable, "-m", "tikabot.simulator", "--quiet",
                                             "--port", str(self.sim_port), "--fail-rate", str(self.fail_rate),
                                             "--seed", str(self.seed), "--account-sid", SIMULATOR_ACCOUNT_SID,
                                             "--auth-token", SIMULATOR_AUTH_TOKEN,
                                             "--timeout-sleep-s", str(TWILIO_TIMEOUT_S + 1),
                                             "--telegram-token", TELEGRAM_TOKEN,
                                             "--fhir-timeout-sleep-s", str(REGISTRY_TIMEOUT_S + 1)])
        wait_for_port(self.sim_port)
        if self.sim_config:
            requests.post(f"{self.sim_url}/_sim/config", json=self.sim_config, timeout=30).raise_for_status()
        self.web = self._spawn("web", [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind",
                                       f"127.0.0.1:{self.web_port}", "--backlog", "2048",
                                       "tikabot.app:create_app()"])
        wait_for_port(self.web_port)
        for _ in range(self.workers):
            self.start_worker()
        self.start_extra("bot", [sys.executable, "-m", "tikabot", "bot"])  # coordinators' Telegram bot

    def start_worker(self) -> None:
        self.worker_procs.append(self._spawn(f"worker-{len(self.worker_procs)}",
                                             [sys.executable, "-m", "tikabot", "worker"]))

    def start_extra(self, name: str, argv: list[str]) -> subprocess.Popen:
        proc = self._spawn(name, argv)
        self.extra.append(proc)
        return proc

    def kill_worker(self, index: int) -> None:
        """SIGKILL a worker, as the kernel's OOM killer would, and start a replacement."""
        alive = [p for p in self.worker_procs if p.poll() is None]
        if not alive:
            return
        victim = alive[index % len(alive)]
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait()
        self.start_worker()

    def restart_redis(self) -> None:
        self.redis.kill()
        self.redis.restart()

    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen:
        log = (self.folder / "logs" / f"{name}.log").open("ab")
        # own process group: a kill takes the worker's children (e.g. its scheduler) with it
        return subprocess.Popen(argv, env=self.env(), stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)

    def stop(self) -> None:
        procs = [p for p in [*self.extra, *self.worker_procs, self.web, self.sim] if p is not None]
        stop_all(procs)
        for proc in procs:  # anything a process left behind in its group
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.redis is not None:
            self.redis.stop()
