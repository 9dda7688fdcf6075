"""`tikabot simulator` takes the Twilio account of the settings (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN)
when they are set: an operator who points TWILIO_API_BASE at it needs no other flag. Before, it
accepted only its own account, and every send of such a server failed with 20003 and paused Twilio."""
from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

from tikabot.stack.processes import free_port
from tests.support.waiting import wait_for


def _send(base: str, sid: str, token: str) -> int:
    form = urllib.parse.urlencode({"To": "+916591682483", "From": "+15005550006", "Body": "hello"}).encode()
    request = urllib.request.Request(f"{base}/2010-04-01/Accounts/{sid}/Messages.json", data=form, headers={
        "Authorization": "Basic " + base64.b64encode(f"{sid}:{token}".encode()).decode()})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _health(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/_sim/health", timeout=2) as response:
            return json.loads(response.read() or b"{}") is not None
    except OSError:
        return False


def test_the_simulator_accepts_the_settings_twilio_account(tmp_path):
    sid, token = "AC" + "5" * 32, "a-district-auth-token"
    port = free_port()
    env = {**os.environ, "TWILIO_ACCOUNT_SID": sid, "TWILIO_AUTH_TOKEN": token}
    with (tmp_path / "sim.log").open("wb") as log:
        sim = subprocess.Popen([sys.executable, "-m", "tikabot", "simulator", "--port", str(port)], cwd=tmp_path,
                               env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        assert wait_for(lambda: _health(base), 30), (tmp_path / "sim.log").read_text()[-2000:]
        assert _send(base, sid, token) == 201
        assert _send(base, sid, "another-token") == 401
    finally:
        os.killpg(sim.pid, signal.SIGTERM)
        sim.wait(30)
