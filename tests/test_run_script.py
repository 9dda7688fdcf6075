"""`./run` on the Python a server has: it picks 3.11 or newer, says in one line what to install when
there is none, and builds .venv again when the interpreter changed. Fake interpreters on PATH (shell
scripts answering ./run's version question) stand in for the Pythons of a Debian or Ubuntu server."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ("bash", "sh", "sort", "head", "basename", "dirname", "rm", "mkdir", "cp", "touch", "cat", "env")

FAKE = """#!/bin/sh
# a fake Python {version}: tells its version, makes a venv of itself, installs nothing
case "$1" in
  -c) echo {version} ;;
  -m) case "$2" in
        venv) {venv} ;;
        *) echo "{version} $*" >> "$FAKE_LOG" ;;
      esac ;;
esac
"""
MAKES_VENV = 'mkdir -p "$3/bin" && cp "$0" "$3/bin/python" && echo "venv {version}" >> "$FAKE_LOG"'
NO_VENV = 'echo "The virtual environment was not created successfully because ensurepip is not available." >&2; exit 1'


class Server:
    """A checkout of ./run in a temp folder, and a PATH holding only the fake Pythons given."""

    def __init__(self, tmp_path: Path):
        self.repo, self.bin = tmp_path / "repo", tmp_path / "bin"
        self.repo.mkdir()
        self.bin.mkdir()
        for name in ("run", "pyproject.toml", "constraints.txt"):
            shutil.copy2(ROOT / name, self.repo / name)
        for tool in TOOLS:
            os.symlink(shutil.which(tool), self.bin / tool)
        self.log = tmp_path / "log"
        self.log.touch()

    def python(self, name: str, version: str, venv: bool = True, where: Path | None = None) -> None:
        path = (where or self.bin) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(FAKE.format(version=version, venv=(MAKES_VENV if venv else NO_VENV).format(version=version)))
        path.chmod(0o755)

    def run(self, *args: str, python: str | None = None) -> subprocess.CompletedProcess:
        env = {"PATH": str(self.bin), "FAKE_LOG": str(self.log), "HOME": str(self.repo)}
        if python:
            env["PYTHON"] = python
        return subprocess.run(["bash", "run", *args], cwd=self.repo, env=env, capture_output=True, text=True,
                              timeout=60)

    def made(self) -> list[str]:
        return [line for line in self.log.read_text().splitlines() if line.startswith("venv ")]


@pytest.fixture
def server(tmp_path):
    return Server(tmp_path)


def test_ubuntu_22_04s_python_3_10_alone_gets_one_line_naming_the_package(server):
    server.python("python3", "3.10")
    result = server.run("setup")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "tikabot needs Python 3.11 or newer (found: python3 3.10,). On Debian/Ubuntu: "
        "sudo apt install python3.11 python3.11-venv, then ./run again"]
    assert not (server.repo / ".venv").exists()


def test_the_newest_suitable_python_is_picked_over_an_old_python3(server):
    server.python("python3", "3.10")
    server.python("python3.11", "3.11")
    server.python("python3.12", "3.12")
    result = server.run("setup")
    assert result.returncode == 0, result.stderr
    assert server.made() == ["venv 3.12"]
    assert "3.12 -m pip install" in server.log.read_text()


def test_a_venv_left_by_python_3_10_is_built_again(server):
    server.python("python", "3.10", where=server.repo / ".venv" / "bin")  # what the server had
    server.python("python3.11", "3.11")
    result = server.run("setup")
    assert result.returncode == 0, result.stderr
    assert "rebuilding .venv with python3.11 (Python 3.11)" in result.stderr
    assert server.made() == ["venv 3.11"]
    assert server.run("setup").stderr == "" and server.made() == ["venv 3.11"]  # kept from then on


def test_python_named_by_the_environment_is_honoured_and_rebuilds_the_venv(server):
    server.python("python3.12", "3.12")
    server.python("python3.11", "3.11")
    assert server.run("setup").returncode == 0
    result = server.run("setup", python="python3.11")
    assert result.returncode == 0, result.stderr
    assert server.made() == ["venv 3.12", "venv 3.11"]
    server.python("python3.10", "3.10")
    too_old = server.run("setup", python="python3.10")
    assert too_old.returncode == 1
    assert too_old.stderr.strip() == ("PYTHON=python3.10 is Python 3.10; tikabot needs 3.11 or newer. "
                                      "On Debian/Ubuntu: sudo apt install python3.11 python3.11-venv")


def test_a_python_without_its_venv_package_says_which_to_install(server):
    server.python("python3.11", "3.11", venv=False)
    result = server.run("setup")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "python3.11 cannot make a virtual environment. On Debian/Ubuntu: sudo apt install python3.11-venv")
    assert not (server.repo / ".venv").exists()
