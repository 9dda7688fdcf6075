"""`tikabot up` as a newcomer meets it, and `tikabot phone` against it: one real stack (embedded
Redis, simulator, gunicorn, worker) started in a scratch folder with the sample district.

The tests run in order on the one stack; the last stops it with Ctrl-C as a terminal sends it (to
the whole foreground process group) and then reads everything every process printed.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.support import wait_for
from tikabot.imports.runner import run_import
from tikabot.stack.processes import SIMULATOR_AUTH_TOKEN, free_port
from tikabot.store.db import make_engine, make_sessionmaker
from tikabot.store.migrate import upgrade

pytestmark = pytest.mark.slow  # a system test: its own CI leg (./run test -m slow)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TIKABOT = [sys.executable, "-m", "tikabot"]
STAFF, BENEFICIARY, REF = "+916591682483", "+918499936196", "0700000002"  # examples/: S002, English
SECRET_ENV = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_API_BASE", "USSD_TOKEN", "REDIS_URL",
              "TELEGRAM_BOT_TOKEN", "PUBLIC_BASE_URL", "DATABASE_URL")


class Output:
    """Lines a process prints, collected by a thread."""

    def __init__(self, stream):
        self.lines: list[str] = []
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def _read(self, stream):
        for line in iter(stream.readline, ""):
            self.lines.append(line)

    @property
    def text(self) -> str:
        return "".join(self.lines)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    folder = tmp_path_factory.mktemp("up")
    env = {k: v for k, v in os.environ.items() if k not in SECRET_ENV}
    env["DATABASE_URL"] = f"sqlite:///{folder / 'tikabot.db'}"
    engine = make_engine(env["DATABASE_URL"])
    upgrade(engine)
    for kind in ("sites", "staff", "beneficiaries", "appointments"):
        run_import(make_sessionmaker(engine), kind, EXAMPLES / f"{kind}.csv")
    engine.dispose()
    port = free_port()
    up = subprocess.Popen([*TIKABOT, "up", "--port", str(port)], cwd=folder, env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, process_group=0)
    out = Output(up.stdout)
    try:
        wait_for(lambda: "Ctrl-C stops everything" in out.text, 90, what="the banner")
        yield {"up": up, "out": out, "folder": folder, "env": env, "port": port}
    finally:
        if up.poll() is None:
            os.killpg(up.pid, signal.SIGINT)
            try:
                up.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(up.pid, signal.SIGKILL)


def banner(stack) -> str:
    text = stack["out"].text
    return text[text.index("tikabot is up"):text.index("Ctrl-C stops everything")]


def phone(stack, *args, stdin: str, timeout=60) -> str:
    done = subprocess.run([*TIKABOT, "phone", *args], input=stdin, cwd=stack["folder"], env=stack["env"],
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stdout + done.stderr
    return done.stdout


def test_up_says_where_everything_is_and_how_to_try_it(stack):
    text = banner(stack)
    assert f"http://127.0.0.1:{stack['port']}" in text
    assert SIMULATOR_AUTH_TOKEN in text  # what signs requests to the app while the simulator stands in
    assert f"tikabot phone {STAFF}" in text and f"DOSE {REF}" in text
    token = re.search(r"USSD token (\S+)\s+\(generated", text).group(1)
    # the generated token is the one the app checks: the gateway gets menus, not a silent 403
    request = urllib.request.Request(f"http://127.0.0.1:{stack['port']}/ussd?token={urllib.parse.quote(token)}",
                                     data=urllib.parse.urlencode({"sessionId": "s1", "phoneNumber": STAFF,
                                                                  "serviceCode": "*1#", "text": ""}).encode())
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.read().decode().startswith("CON ")


def test_phone_records_a_dose_and_the_beneficiary_gets_the_confirmation(stack):
    ben = subprocess.Popen([*TIKABOT, "phone", BENEFICIARY], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, cwd=stack["folder"], env=stack["env"], text=True)
    ben_out = Output(ben.stdout)
    try:
        wait_for(lambda: "Ctrl-D to stop" in ben_out.text, 30, what="the beneficiary's prompt")
        said = phone(stack, STAFF, stdin=f"START COVISHIELD LOT1\nDOSE {REF}\nVERIFY {REF}\n")
        assert "reply: Session open: COVISHIELD lot LOT1" in said
        assert re.search(rf"reply: Recorded: {REF} .*, dose 1, COVISHIELD lot LOT1\. Today: 1\.", said), said
        code = wait_for(lambda: re.search(r"SMS received: ([0-9]{6}) is your vaccination verification code",
                                          ben_out.text), 30, what="the OTP on the beneficiary's phone").group(1)
        assert "SMS received: Dear" in ben_out.text  # the dose confirmation, to the beneficiary's phone
        assert f"reply: Verified: {REF}" in phone(stack, STAFF, stdin=f"OTP {REF} {code}\n")
    finally:
        ben.stdin.close()
        ben.wait(30)
    stack["code"] = code


def test_phone_walks_the_ussd_menus(stack):
    said = phone(stack, STAFF, "--ussd", stdin="2\n")
    assert "Staff menu" in said and "today: dose 1: 1" in said


def test_ctrl_c_stops_everything_quietly_and_no_secret_reaches_any_log(stack):
    up, out = stack["up"], stack["out"]
    os.killpg(up.pid, signal.SIGINT)  # what a terminal does: the whole foreground group
    assert up.wait(60) == 0
    out.thread.join(10)
    text = out.text
    assert "stopped: every process tikabot up started has exited" in text
    for noise in ("Traceback", "Unclosed", "Error", "Exception"):
        assert noise not in text, text[text.find(noise) - 600:text.find(noise) + 400]
    assert not (stack["folder"] / "instance" / "up.json").exists()
    assert "POST /ussd" in text and "POST /sms/inbound" in text  # the access log is there...
    after_banner = text[text.index("Ctrl-C stops everything"):]
    token = re.search(r"USSD token (\S+)", text).group(1)
    assert token not in after_banner and SIMULATOR_AUTH_TOKEN not in after_banner  # ...without ?token=
    assert "?" not in "".join(line for line in text.splitlines(True) if '"POST ' in line)
    assert stack["code"] not in text  # the OTP the beneficiary got appears in no log
    for number in (STAFF, BENEFICIARY):  # the banner names the sample vaccinator to try; no log does
        assert number not in after_banner and number[1:] not in after_banner and number[3:] not in after_banner
