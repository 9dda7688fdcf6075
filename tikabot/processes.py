"""Starting and stopping the processes of `tikabot up` and `tikabot serve`."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import click

from tikabot.config import Config

SIMULATOR_ACCOUNT_SID = "AC" + "5" * 32
SIMULATOR_AUTH_TOKEN = "simulator-auth-token"


def exec_gunicorn(port: int, workers: int, host: str = "127.0.0.1") -> None:
    os.execvp(sys.executable, [sys.executable, "-m", "gunicorn", "--workers", str(workers),
                               "--bind", f"{host}:{port}", "--access-logfile", "-",
                               "tikabot.app:create_app()"])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {timeout:.0f} s")


def child_env(config: Config, **values: str) -> dict[str, str]:
    env = dict(os.environ)
    env["DATABASE_URL"] = config.database_url
    env.update({k: v for k, v in values.items() if v is not None})
    return env


def run_everything(config: Config, port: int) -> int:
    from tikabot.redis_server import start_embedded
    from tikabot.store.db import make_engine
    from tikabot.store.migrate import upgrade

    redis_server = None
    redis_url = config.redis_url
    if not redis_url:
        redis_server = start_embedded(Path("instance") / "redis")
        redis_url = redis_server.url
        click.echo(f"embedded Redis on {redis_url}")
    engine = make_engine(config.database_url)
    upgrade(engine)
    engine.dispose()

    extra: dict[str, str] = {"REDIS_URL": redis_url,
                             "PUBLIC_BASE_URL": config.public_base_url or f"http://127.0.0.1:{port}"}
    children: list[subprocess.Popen] = []
    if config.simulated_provider:
        sim_port = free_port()
        extra.update(TWILIO_ACCOUNT_SID=SIMULATOR_ACCOUNT_SID, TWILIO_AUTH_TOKEN=SIMULATOR_AUTH_TOKEN,
                     TWILIO_API_BASE=f"http://127.0.0.1:{sim_port}", TWILIO_FROM=config.twilio_from or "+15005550006")
        children.append(subprocess.Popen([sys.executable, "-m", "tikabot", "simulator", "--port", str(sim_port),
                                          "--account-sid", SIMULATOR_ACCOUNT_SID,
                                          "--auth-token", SIMULATOR_AUTH_TOKEN], env=child_env(config, **extra)))
        wait_for_port(sim_port)
        click.echo(f"no Twilio credentials: provider simulator on http://127.0.0.1:{sim_port}")
    env = child_env(config, **extra)
    children.append(subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "2", "--bind",
                                      f"127.0.0.1:{port}", "tikabot.app:create_app()"], env=env))
    children.append(subprocess.Popen([sys.executable, "-m", "tikabot", "worker"], env=env))
    if config.telegram_bot_token:
        children.append(subprocess.Popen([sys.executable, "-m", "tikabot", "bot"], env=env))
    click.echo(f"tikabot is up: http://127.0.0.1:{port}  (Ctrl-C stops everything)")
    return supervise(children, on_exit=redis_server.stop if redis_server else None)


def supervise(children: list[subprocess.Popen], on_exit=None) -> int:
    stopping = False

    def _stop(_signum, _frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    code = 0
    try:
        while not stopping:
            dead = [c for c in children if c.poll() is not None]
            if dead:
                click.echo(f"a process exited ({' '.join(dead[0].args[:4])}); stopping everything", err=True)
                code = 1
                break
            time.sleep(0.2)
    finally:
        stop_all(children)
        if on_exit:
            on_exit()
    if stopping:
        click.echo("stopped")
    return code


def stop_all(children: list[subprocess.Popen], timeout: float = 10.0) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for child in children:
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
