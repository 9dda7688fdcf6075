"""The production shape of deploy/, brought up on loopback (.ci/production: nginx with TLS, Redis with
AOF, PostgreSQL) with web and worker started from the units' own command lines: a smoke day of signed
Twilio webhooks through nginx, then the backup-restore drill.

Run: TIKABOT_TEST_PRODUCTION=1 TIKABOT_PRODUCTION_ENV=$(.ci/production) ./run test tests/deploy -m production
"""
from __future__ import annotations

import csv
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import requests
from sqlalchemy.engine import make_url

from tests.support.signing import twilio_headers
from tests.support.units import REPO, RunningUnit, load_unit, read_env_file, run_oneshot, unit_environment
from tests.support.waiting import wait_for

pytestmark = [
    pytest.mark.production,
    pytest.mark.skipif(os.environ.get("TIKABOT_TEST_PRODUCTION") != "1" or not os.environ.get("TIKABOT_PRODUCTION_ENV"),
                       reason="the production shape: TIKABOT_TEST_PRODUCTION=1 TIKABOT_PRODUCTION_ENV=$(.ci/production)"),
]

EXAMPLES = REPO / "examples"
SITE = "S001"


def _rows(name: str) -> list[dict]:
    with (EXAMPLES / name).open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


class Shape:
    """The env file .ci/production wrote, the units mapped onto its state folder, and the commands."""

    def __init__(self, env_file: Path, log_dir: Path):
        self.env_file = env_file
        self.env = read_env_file(env_file)
        self.state_root = Path(self.env["TIKABOT_STATE_ROOT"])
        self.https = self.env["TIKABOT_HTTPS_URL"]
        self.cert = self.env["TIKABOT_TLS_CERT"]
        self.log_dir = log_dir
        self.running: dict[str, RunningUnit] = {}

    def unit(self, name: str):
        return load_unit(name, self.state_root, self.env_file)

    def start(self, *names: str) -> None:
        for name in names:
            self.running[name] = RunningUnit(self.unit(name), self.log_dir)

    def stop(self, *names: str) -> None:
        for name in names:
            unit = self.running.pop(name, None)
            if unit is not None:
                unit.stop()

    def tikabot(self, *args: str) -> subprocess.CompletedProcess:
        """A `tikabot` command as the operator runs it on the server: the units' environment and folder."""
        worker = self.unit("tikabot-worker")
        return subprocess.run([str(REPO / ".venv" / "bin" / "tikabot"), *args], cwd=worker.working_directory,
                              env=unit_environment(worker), capture_output=True, text=True, timeout=120, check=True)

    def get(self, path: str) -> requests.Response:
        return requests.get(self.https + path, verify=self.cert, timeout=10)

    def sms(self, sender: str, body: str, sid: str) -> requests.Response:
        """An inbound SMS as Twilio posts it: to nginx over TLS, signed over the public URL."""
        form = {"MessageSid": sid, "AccountSid": self.env["TWILIO_ACCOUNT_SID"], "From": sender,
                "To": self.env["TWILIO_FROM"], "Body": body, "NumMedia": "0"}
        headers = twilio_headers("/sms/inbound", form, self.env["TWILIO_AUTH_TOKEN"], self.env["PUBLIC_BASE_URL"])
        return requests.post(self.https + "/sms/inbound", data=form, headers=headers, verify=self.cert, timeout=15)

    def ready(self) -> bool:
        try:
            return self.get("/readyz").status_code == 200
        except requests.RequestException:
            return False

    def wait_ready(self) -> None:
        if not wait_for(self.ready, 60):
            logs = "\n".join(f"--- {n}\n{u.log_tail()}" for n, u in self.running.items())
            raise AssertionError(f"/readyz through nginx never answered 200\n{logs}")


class Simulator:
    """Twilio, simulated in a process of its own on the port the env file's TWILIO_API_BASE names; its
    status callbacks go to nginx over TLS, trusting the self-signed certificate as Twilio trusts a real one."""

    def __init__(self, env: dict[str, str], log_dir: Path):
        self.url = env["TWILIO_API_BASE"]
        with (log_dir / "simulator.log").open("ab") as log:
            self.process = subprocess.Popen(
                [str(REPO / ".venv" / "bin" / "tikabot"), "simulator", "--port", self.url.rsplit(":", 1)[1],
                 "--account-sid", env["TWILIO_ACCOUNT_SID"], "--auth-token", env["TWILIO_AUTH_TOKEN"]],
                env={**os.environ, "SSL_CERT_FILE": env["TIKABOT_TLS_CERT"]}, stdout=log, stderr=subprocess.STDOUT)

    def _get(self, path: str, **params):
        try:
            return requests.get(self.url + path, params=params, timeout=5).json()
        except requests.RequestException:
            return None

    def messages(self, to: str) -> list[dict]:
        return self._get("/_sim/messages", to=to) or []

    def telegram_sent(self, chat_id: int) -> list[dict]:
        calls = self._get("/_sim/telegram", method="sendMessage") or []
        return [c for c in calls if str((c.get("params") or {}).get("chat_id")) == str(chat_id)]

    def telegram_update(self, chat_id: int, text: str) -> None:
        """A coordinator's message to the bot, as Telegram hands it to getUpdates."""
        requests.post(self.url + "/_sim/telegram/updates", json={"chat_id": chat_id, "text": text},
                      timeout=5).raise_for_status()

    def callback_log(self) -> list[dict]:
        return self._get("/_sim/callbacks") or []

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


@pytest.fixture(scope="module")
def simulator(shape_env, tmp_path_factory):
    sim = Simulator(read_env_file(shape_env), tmp_path_factory.mktemp("simulator"))
    try:
        wait_for(lambda: sim._get("/_sim/health"), 30, what="the provider simulator")
        yield sim
    finally:
        sim.stop()


@pytest.fixture(scope="module")
def shape_env() -> Path:
    return Path(os.environ["TIKABOT_PRODUCTION_ENV"])


@pytest.fixture(scope="module")
def shape(shape_env, simulator, tmp_path_factory):
    shape = Shape(shape_env, tmp_path_factory.mktemp("unit-logs"))
    # a fresh server: empty database and state folder, then the README's install steps
    database = make_url(shape.env["DATABASE_URL"]).database
    subprocess.run(["dropdb", "--if-exists", "--force", database], check=True, env={**os.environ, "PGHOST": "/var/run/postgresql"})
    subprocess.run(["createdb", database], check=True, env={**os.environ, "PGHOST": "/var/run/postgresql"})
    shutil.rmtree(shape.env["TIKABOT_SPOOL_DIR"], ignore_errors=True)
    shape.tikabot("init-db")
    for kind in ("sites", "staff", "beneficiaries", "appointments"):
        shape.tikabot("import", kind, str(EXAMPLES / f"{kind}.csv"))
    shape.start("tikabot-web", "tikabot-worker", "tikabot-bot")
    try:
        shape.wait_ready()
        yield shape
    finally:
        shape.stop("tikabot-bot", "tikabot-worker", "tikabot-web")


def _texts_to(sim, phone: str) -> list[str]:
    return [m["body"] for m in sim.messages(to=phone)]


def _exported_refs(shape: Shape) -> list[str]:
    out = shape.tikabot("export", "doses").stdout
    return sorted(row["ref"] for row in csv.DictReader(out.splitlines()))


def test_a_day_through_nginx_then_backup_destroy_restore(shape, simulator):
    vaccinator = next(r["phone"] for r in _rows("staff.csv") if r["site_code"] == SITE and r["role"] == "vaccinator")
    phones = {r["ref"]: r["phone"] for r in _rows("beneficiaries.csv")}
    due = [r["ref"] for r in _rows("appointments.csv") if r["site_code"] == SITE and r["date"] == "today"][:5]
    assert len(due) == 5

    # the front server: TLS, a health check, and a body over the limit refused before the app
    assert shape.get("/healthz").status_code == 200
    too_big = requests.post(shape.https + "/sms/inbound", data=b"x" * (100 * 1024), verify=shape.cert, timeout=10)
    assert too_big.status_code == 413 and "<center>nginx" in too_big.text  # nginx's page, not the app's line
    # a request signed for another URL (what a wrong PUBLIC_BASE_URL looks like) is refused
    bad = requests.post(shape.https + "/sms/inbound", data={"From": vaccinator, "Body": "COUNT", "MessageSid": "SMbad"},
                        headers=twilio_headers("/sms/inbound", {"From": vaccinator, "Body": "COUNT", "MessageSid": "SMbad"},
                                               shape.env["TWILIO_AUTH_TOKEN"], "https://elsewhere.example"),
                        verify=shape.cert, timeout=10)
    assert bad.status_code == 403

    # the session opened, each dose reported, every reply and confirmation reaching a phone
    assert shape.sms(vaccinator, "START COVISHIELD LOT1", "SMstart").status_code == 200
    wait_for(lambda: len(_texts_to(simulator, vaccinator)) >= 1, 60, what="the session-open reply")
    for n, ref in enumerate(due):
        assert shape.sms(vaccinator, f"DOSE {ref}", f"SMdose{n:04d}").status_code == 200
    wait_for(lambda: len(_texts_to(simulator, vaccinator)) >= 1 + len(due), 90, what="a reply to every DOSE")
    for ref in due:
        wait_for(lambda: _texts_to(simulator, phones[ref]), 90, what=f"{ref}'s dose confirmation")
    assert _exported_refs(shape) == sorted(due)
    callbacks = wait_for(lambda: [c for c in simulator.callback_log() if c["outcome"] == "ok"], 60,
                         what="a delivery report accepted through nginx")
    assert all(c["url"].startswith(shape.env["PUBLIC_BASE_URL"]) for c in callbacks)

    # the coordinator bot's unit answers a coordinator in Telegram
    coordinator = next(int(r["telegram_user_id"]) for r in _rows("staff.csv") if r["role"] == "coordinator"
                       and r["telegram_user_id"])
    simulator.telegram_update(coordinator, "/status")
    wait_for(lambda: simulator.telegram_sent(coordinator), 60, what="the bot's answer to /status")

    # the nightly backup, as its timer starts it
    backup = Path(run_oneshot(shape.unit("tikabot-backup")).stdout.strip().splitlines()[-1])
    assert (backup / "database.dump").stat().st_size > 0

    # destroy: services stopped, the database dropped, the spool gone
    shape.stop("tikabot-bot", "tikabot-worker", "tikabot-web")
    database = make_url(shape.env["DATABASE_URL"]).database
    subprocess.run(["dropdb", "--force", database], check=True, env={**os.environ, "PGHOST": "/var/run/postgresql"})
    shutil.rmtree(shape.env["TIKABOT_SPOOL_DIR"], ignore_errors=True)

    # restore, start, and every dose is still there; the day goes on
    restore_env = {**os.environ, **read_env_file(shape.env_file)}
    subprocess.run([str(REPO / "deploy" / "restore"), str(backup)], check=True, env=restore_env,
                   capture_output=True, text=True, timeout=120)
    shape.start("tikabot-web", "tikabot-worker", "tikabot-bot")
    shape.wait_ready()
    assert _exported_refs(shape) == sorted(due)
    more = [r["ref"] for r in _rows("appointments.csv") if r["site_code"] == SITE and r["date"] == "today"][5]
    before = len(_texts_to(simulator, vaccinator))
    assert shape.sms(vaccinator, f"DOSE {more}", "SMdose-after-restore").status_code == 200
    wait_for(lambda: len(_texts_to(simulator, vaccinator)) > before, 90, what="a reply after the restore")
    assert _exported_refs(shape) == sorted([*due, more])
