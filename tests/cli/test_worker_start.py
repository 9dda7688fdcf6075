"""A started worker says what it runs and where (the journal's first line of tikabot-worker), with no
password; before, it printed nothing and an operator could not tell a worker waiting from one stuck."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

from tikabot.cli.main import worker_banner
from tests.support.waiting import wait_for


def test_a_started_worker_says_what_it_runs_and_where_and_lifts_a_route_pause(redis_url, database_url, tmp_path):
    """An operator fixed Twilio's credentials and restarted the worker: sending resumes at once,
    not when the pause set by the wrong credentials runs out."""
    import redis as redis_lib

    from tikabot.queue.routes import pause

    redis = redis_lib.Redis.from_url(redis_url)
    pause.pause(redis, "twilio", "20003", 300)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TIKABOT_TEST", "PYTEST"))}
    env.update(REDIS_URL=redis_url, DATABASE_URL=database_url, TIKABOT_INBOX_WORKERS="2")
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen([sys.executable, "-m", "tikabot", "worker"], cwd=tmp_path, env=env,
                                  stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(lambda: "sending on twilio resumed" in log.read_text(errors="replace"), 30)
        line = next((l for l in log.read_text(errors="replace").splitlines() if l.startswith("tikabot worker:")), None)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(30)
    assert line, log.read_text(errors="replace")[-2000:]
    assert "2 inbox processes" in line and "otp > reply > default > bulk" in line
    assert f"Redis {redis_url}" in line and "database " in line
    assert redis.pttl(pause.key("twilio")) == -2  # gone: the next send goes out
    assert "sending on twilio resumed: its pause after an account failure (20003) is lifted" in log.read_text()


def test_the_banner_never_shows_a_password():
    line = worker_banner(1, "redis://:r3dis-secret@cache:6379/0", "postgresql+psycopg://tika:pg-secret@db/tikabot")
    assert "r3dis-secret" not in line and "pg-secret" not in line
    assert "1 inbox process," in line and "cache:6379/0" in line and "db/tikabot" in line
