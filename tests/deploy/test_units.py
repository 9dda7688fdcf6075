"""deploy/systemd's units as systemd reads them, without systemd: the bot, web and worker units give
up on a configuration error instead of restarting every few seconds, and their commands exit with the
very status the unit names for that."""
from __future__ import annotations

import subprocess

import pytest

from tests.support.units import directives, load_unit, unit_environment

EX_CONFIG = "78"


def test_the_bot_unit_restarts_a_crash_but_not_a_configuration_error():
    bot = directives("tikabot-bot")
    assert bot["Restart"] == ["always"] and bot["RestartSec"] == ["5"]
    assert EX_CONFIG in " ".join(bot["RestartPreventExitStatus"]).split()


def test_the_bot_units_command_without_a_token_exits_with_the_status_the_unit_leaves_stopped(tmp_path, database_url):
    """The env file as an operator might leave it: everything but TELEGRAM_BOT_TOKEN. systemd would
    mark the unit failed (RestartPreventExitStatus) with one line in the journal saying what to set."""
    env_file = tmp_path / "env"
    env_file.write_text(f"DATABASE_URL={database_url}\nTELEGRAM_BOT_TOKEN=\n", encoding="utf-8")
    unit = load_unit("tikabot-bot", tmp_path / "state", env_file)
    unit.working_directory.mkdir(parents=True)
    run = subprocess.run(unit.exec_start, cwd=unit.working_directory, env=unit_environment(unit),
                         capture_output=True, text=True, timeout=60)
    prevented = " ".join(directives("tikabot-bot")["RestartPreventExitStatus"]).split()
    assert str(run.returncode) in prevented, (run.returncode, run.stderr)
    assert run.stdout == ""
    [line] = run.stderr.splitlines()
    assert line.startswith("Error: TELEGRAM_BOT_TOKEN is not set: put the token @BotFather gave")


@pytest.mark.parametrize("name", ["tikabot-web", "tikabot-worker"])
def test_web_and_worker_units_leave_a_wrong_setting_stopped_with_one_line(name, tmp_path, database_url):
    """A typo in /etc/tikabot/env (a proxy that is no address) restarted web and worker every 2 s
    forever, with a traceback each time; now one line says which setting, and the status is the one
    the unit does not restart."""
    assert directives(name)["Restart"] == ["always"]
    prevented = " ".join(directives(name)["RestartPreventExitStatus"]).split()
    assert EX_CONFIG in prevented
    env_file = tmp_path / "env"
    env_file.write_text(f"DATABASE_URL={database_url}\nREDIS_URL=redis://127.0.0.1:1/0\n"
                        "TIKABOT_TRUSTED_PROXIES=nginx.local\n", encoding="utf-8")
    unit = load_unit(name, tmp_path / "state", env_file)
    unit.working_directory.mkdir(parents=True)
    run = subprocess.run(unit.exec_start, cwd=unit.working_directory, env=unit_environment(unit),
                         capture_output=True, text=True, timeout=60)
    assert str(run.returncode) in prevented, (run.returncode, run.stderr[-2000:])
    assert "Traceback" not in run.stderr
    [line] = [l for l in run.stderr.splitlines() if l.strip()]
    assert line == "Error: TIKABOT_TRUSTED_PROXIES: 'nginx.local' is not an IP address or network"
