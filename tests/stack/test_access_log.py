"""The web process's access log behind nginx, through a real gunicorn with tikabot's settings: the
caller's address when (and only when) the peer is one of our proxies (TIKABOT_TRUSTED_PROXIES,
default this machine), and never a query string (the USSD gateway's secret rides in `?token=`)."""
from __future__ import annotations

import http.client
import os
import re
import subprocess

import pytest

from tests.support import wait_for
from tests.support.credentials import OTP_SECRET, USSD_TOKEN
from tikabot.stack.processes import free_port, gunicorn_argv, wait_for_port

ACCESS_LINE = re.compile(r'^(?P<who>\S+) \[[^\]]+\] "(?P<method>[A-Z]+) (?P<path>\S*)" (?P<status>\d{3}) ')


def request(port: int, method: str, path: str, headers: dict, source: str = "127.0.0.1") -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    try:
        connection.request(method, path, body=b"" if method == "POST" else None,
                           headers={"Content-Type": "application/x-www-form-urlencoded", **headers})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


@pytest.fixture
def web(database_url, redis_url, tmp_path):
    """gunicorn as the web unit runs it (tikabot.stack.gunicorn_conf), its output in a file; no
    TIKABOT_TRUSTED_PROXIES in its environment: the default (this machine) holds."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("TIKABOT_TRUSTED_PROXIES", "CDAC_TRUSTED_PROXIES")}
    env.update(DATABASE_URL=database_url, REDIS_URL=redis_url, USSD_TOKEN=USSD_TOKEN, OTP_SECRET=OTP_SECRET,
               TIKABOT_SPOOL_DIR="off")
    log_path = tmp_path / "web.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(gunicorn_argv(port, 1), cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, 30)
        yield port, log_path
    finally:
        process.terminate()
        process.wait(30)


def access_lines(log_path) -> list[dict]:
    return [m.groupdict() for m in map(ACCESS_LINE.match, log_path.read_text(errors="replace").splitlines()) if m]


def test_the_access_log_names_the_caller_behind_our_proxy_and_never_the_query(web):
    port, log_path = web
    secret = f"token={USSD_TOKEN}"
    # nginx on this machine hands on a USSD gateway's request: X-Forwarded-For is the address it saw
    request(port, "POST", f"/ussd?{secret}", {"X-Forwarded-For": "203.0.113.7"})
    # a proxy that appends: the caller wrote a first hop of its own, the last one is what our proxy saw
    request(port, "GET", f"/healthz?{secret}", {"X-Forwarded-For": "10.6.6.6, 203.0.113.8"})
    # a client on another address (not one of our proxies) claiming someone's address: its own is logged
    request(port, "GET", f"/healthz?{secret}", {"X-Forwarded-For": "198.51.100.4"}, source="127.0.0.2")
    # our proxy calling on its own behalf (no header): the proxy is the caller
    request(port, "GET", "/healthz", {})
    lines = wait_for(lambda: len(access_lines(log_path)) >= 4 and access_lines(log_path), 20,
                     what="four access log lines")
    # gunicorn's threads each write their line once their answer is out: the order may differ
    assert sorted((line["who"], line["method"], line["path"]) for line in lines) == sorted([
        ("203.0.113.7", "POST", "/ussd"),
        ("203.0.113.8", "GET", "/healthz"),
        ("127.0.0.2", "GET", "/healthz"),
        ("127.0.0.1", "GET", "/healthz"),
    ])
    text = log_path.read_text(errors="replace")
    assert USSD_TOKEN not in text and "token=" not in text and "?" not in text
    assert "198.51.100.4" not in text and "10.6.6.6" not in text
