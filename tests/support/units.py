"""deploy/systemd's units run without systemd: the same ExecStart, working folder and env file, with
the unit's fixed paths (/opt/tikabot, /var/lib/tikabot, /etc/tikabot/env) mapped onto a test's.

What systemd does that this does not: the `tikabot` user, restarts, sandboxing. What it keeps: the
command line, so a unit that names a wrong module, option or path fails here as it would on a server."""
from __future__ import annotations

import os
import shlex
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
UNITS = REPO / "deploy" / "systemd"


def read_env_file(path: Path) -> dict[str, str]:
    """systemd's EnvironmentFile: KEY=value lines, # comments, optional quotes, no expansion."""
    env = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")) or "=" not in line:
            continue
        key, value = line.split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        env[key.strip()] = value
    return env


@dataclass(frozen=True)
class Unit:
    name: str
    exec_start: list[str]
    working_directory: Path
    environment_file: Path


def directives(name: str) -> dict[str, list[str]]:
    """deploy/systemd/<name>.service as systemd reads it: each directive's values in order (a
    directive may be given more than once, and RestartPreventExitStatus= lists several)."""
    found: dict[str, list[str]] = {}
    for line in (UNITS / f"{name}.service").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if "=" in line and not line.startswith(("#", ";", "[")):
            key, value = line.split("=", 1)
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def load_unit(name: str, state_root: Path, env_file: Path) -> Unit:
    """deploy/systemd/<name>.service with its paths mapped: the checkout to this repo, the state folder
    to `state_root`, the env file to `env_file`."""
    mapping = {"/opt/tikabot": str(REPO), "/var/lib/tikabot": str(state_root), "/etc/tikabot/env": str(env_file)}

    def mapped(text: str) -> str:
        for unit_path, here in mapping.items():
            text = text.replace(unit_path, here)
        return text

    fields: dict[str, str] = {}
    for line in (UNITS / f"{name}.service").read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, value = line.split("=", 1)
            fields.setdefault(key.strip(), value.strip())
    return Unit(name, [mapped(arg) for arg in shlex.split(fields["ExecStart"])],
                Path(mapped(fields["WorkingDirectory"])), Path(mapped(fields["EnvironmentFile"])))


def unit_environment(unit: Unit) -> dict[str, str]:
    """PATH and the like from this process, then the env file; no TIKABOT_TEST_* leaks in."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TIKABOT_", "PYTEST", "REDIS_URL", "DATABASE_URL"))}
    return {**base, **read_env_file(unit.environment_file)}


class RunningUnit:
    """A unit's ExecStart as a child process in its own process group (systemd's control group)."""

    def __init__(self, unit: Unit, log_dir: Path):
        self.unit = unit
        unit.working_directory.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"{unit.name}.log"
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(unit.exec_start, cwd=unit.working_directory, env=unit_environment(unit),
                                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def stop(self, timeout: float = 30) -> None:
        """`systemctl stop`: SIGTERM to the whole group, SIGKILL after `timeout`."""
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def run_oneshot(unit: Unit, *extra: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """A Type=oneshot unit (the backup), or its ExecStart with more arguments; raises on failure."""
    return subprocess.run([*unit.exec_start, *extra], cwd=unit.working_directory, env=unit_environment(unit),
                          capture_output=True, text=True, timeout=timeout, check=True)
