"""Starting and stopping the processes of `tikabot up` and `tikabot serve`."""
from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import click

from tikabot.stack import banner as up_banner
from tikabot.config import Config
from tikabot.store.db import make_engine
from tikabot.store.migrate import upgrade
from tikabot.stack.redis_server import start_embedded

SIMULATOR_ACCOUNT_SID = "AC" + "5" * 32
SIMULATOR_AUTH_TOKEN = "simulator-auth-token"
SIMULATOR_BOT_TOKEN = "100000000:simulator-bot-token"  # the simulator takes any token; never a real one


GUNICORN_CONFIG = "python:tikabot.stack.gunicorn_conf"  # the access log without query strings


def gunicorn_argv(port: int, workers: int, host: str = "127.0.0.1") -> list[str]:
    return [sys.executable, "-m", "gunicorn", "-c", GUNICORN_CONFIG, "--workers", str(workers),
            "--bind", f"{host}:{port}", "tikabot.app:create_app()"]


def exec_gunicorn(port: int, workers: int, host: str = "127.0.0.1") -> None:
    os.execvp(sys.executable, gunicorn_argv(port, workers, host))


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


class AlreadyUp(RuntimeError):
    """Another `tikabot up` runs here, or another program holds the port: nothing was started."""


def port_taken(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((host, port)) == 0


def refuse_if_running(port: int) -> None:
    """Before anything starts: a second `up` must not touch the first's state file, Redis or port."""
    state = up_banner.running_state()
    if state is not None and state.pid != os.getpid():
        raise AlreadyUp(f"tikabot is already up here (process {state.pid}, web {state.web}): use it "
                        f"(tikabot phone ...), or stop it with Ctrl-C in its terminal before starting it again")
    if port_taken(port):
        raise AlreadyUp(f"port {port} is already in use by another program: stop that program, "
                        f"or start on another port (tikabot up --port 5001)")


def run_everything(config: Config, port: int) -> int:
    refuse_if_running(port)

    redis_server = None
    redis_url = config.redis_url
    if not redis_url:
        redis_server = _start_redis()
        redis_url = redis_server.url
    engine = make_engine(config.database_url)
    upgrade(engine)
    example = up_banner.example_people(engine)
    engine.dispose()

    web_url = f"http://127.0.0.1:{port}"
    ussd_token = config.ussd_token or secrets.token_urlsafe(12)  # a gateway without a token gets 403
    extra: dict[str, str] = {"REDIS_URL": redis_url, "PUBLIC_BASE_URL": config.public_base_url or web_url,
                             "USSD_TOKEN": ussd_token}
    children: list[subprocess.Popen] = []
    sim_url = None
    try:
        if config.simulated_provider:
            sim_port = free_port()
            sim_url = f"http://127.0.0.1:{sim_port}"
            extra.update(TWILIO_ACCOUNT_SID=SIMULATOR_ACCOUNT_SID, TWILIO_AUTH_TOKEN=SIMULATOR_AUTH_TOKEN,
                         TWILIO_API_BASE=sim_url, TWILIO_FROM=config.twilio_from or "+15005550006")
            if not config.telegram_bot_token:  # the coordinator bot too, against the simulator's Bot API
                extra.update(TELEGRAM_BOT_TOKEN=SIMULATOR_BOT_TOKEN, TELEGRAM_API_BASE=sim_url)
            children.append(_start([sys.executable, "-m", "tikabot", "simulator", "--port", str(sim_port),
                                    "--account-sid", SIMULATOR_ACCOUNT_SID, "--auth-token", SIMULATOR_AUTH_TOKEN],
                                   child_env(config, **extra)))
            wait_for_port(sim_port)
        env = child_env(config, **extra)
        children.append(_start(gunicorn_argv(port, 2), env))
        children.append(_start([sys.executable, "-m", "tikabot", "worker"], env))
        if config.telegram_bot_token or "TELEGRAM_BOT_TOKEN" in extra:
            children.append(_start([sys.executable, "-m", "tikabot", "bot"], env))
        wait_for_port(port)
    except BaseException:
        stop_all(children)
        if redis_server:
            redis_server.stop()
        raise
    state = up_banner.UpState(web=web_url, public_base_url=extra["PUBLIC_BASE_URL"], simulator=sim_url,
                              twilio_auth_token=SIMULATOR_AUTH_TOKEN if sim_url else None,
                              ussd_token=None if config.ussd_token else ussd_token, pid=os.getpid(),
                              redis_url=redis_url, bot_on_simulator="TELEGRAM_BOT_TOKEN" in extra)
    state_file = up_banner.write_state(state)
    click.echo(up_banner.banner(state, redis_url=redis_url if redis_server else None,
                                ussd_from_env=bool(config.ussd_token), example=example))

    def on_exit() -> None:
        state_file.unlink(missing_ok=True)
        if redis_server:
            redis_server.stop()

    return supervise(children, on_exit=on_exit)


def _start_redis():
    """The embedded Redis, deaf to the terminal's Ctrl-C (the signal mask is inherited): it must
    outlive the worker, which `up` stops first, and is stopped last, by SIGTERM."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        return start_embedded(Path("instance") / "redis")
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _start(argv: list[str], env: dict[str, str]) -> subprocess.Popen:
    """A child in its own process group: Ctrl-C reaches only `tikabot up`, which stops each child
    in turn (SIGTERM), so none of them dies mid-request printing a traceback."""
    return subprocess.Popen(argv, env=env, process_group=0)


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
        click.echo("stopped: every process tikabot up started has exited")
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
