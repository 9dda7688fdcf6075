"""What tikabot installs: floors above known advisories, an exact lock that ./run installs from and
that covers everything installed, and an audit that says plainly when it cannot reach its database."""
from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)$")

# The first release without the advisory named (direct dependencies, and what they bring in).
FIXED = {
    "aiohttp": "3.13.3",      # zip bomb, request smuggling, DoS (January 2026)
    "flask": "3.1.1",         # CVE-2025-47278
    "werkzeug": "3.1.4",      # CVE-2025-66221
    "requests": "2.32.4",     # CVE-2024-47081
    "fonttools": "4.60.2",    # CVE-2025-66034
    "gunicorn": "23.0.0",     # CVE-2024-6827
    "setuptools": "78.1.1",   # CVE-2025-47273
    "jinja2": "3.1.6",        # CVE-2025-27516
    "urllib3": "2.6.3",       # CVE-2026-21441
    "h11": "0.16.0",          # CVE-2025-43859
    "pyjwt": "2.10.1",        # CVE-2024-53861
    "idna": "3.7",            # CVE-2024-3651
    "certifi": "2024.7.4",    # CVE-2024-39689
}


def _requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    lines = list(project["project"]["dependencies"]) + list(project["build-system"]["requires"])
    lines += [r for extra in project["project"]["optional-dependencies"].values() for r in extra]
    return [Requirement(line) for line in lines]


def _lock() -> dict[str, Version]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            match = PIN.match(line.strip())
            assert match, f"constraints.txt: {line!r} is not an exact pin"
            pins[canonicalize_name(match[1])] = Version(match[2])
    return pins


def _just_below(version: Version) -> Version:
    """The highest release a floor must shut out: 3.13.3 -> 3.13.2, 78.1.0 -> 78.0.999, 23.0.0 -> 22.999."""
    major, minor, micro = (list(version.release) + [0, 0])[:3]
    if micro:
        return Version(f"{major}.{minor}.{micro - 1}")
    return Version(f"{major}.{minor - 1}.999") if minor else Version(f"{major - 1}.999")


@pytest.mark.parametrize("requirement", _requirements(), ids=str)
def test_no_floor_allows_a_release_with_a_known_advisory(requirement):
    fixed = FIXED.get(canonicalize_name(requirement.name))
    if fixed is not None:
        assert not requirement.specifier.contains(_just_below(Version(fixed))), \
            f"{requirement} allows releases with a known advisory: raise the floor to {fixed}"


def test_the_lock_pins_every_installed_distribution_exactly_and_nothing_vulnerable():
    pins = _lock()
    installed = {canonicalize_name(d.metadata["Name"]): Version(d.version) for d in importlib.metadata.distributions()}
    installed.pop("tikabot", None)
    missing = sorted(set(installed) - set(pins))
    assert not missing, f"installed but not in constraints.txt: {missing} (run .ci/lock)"
    for name, version in pins.items():
        if name in FIXED:
            assert version >= Version(FIXED[name]), f"constraints.txt pins {name} {version}, below {FIXED[name]}"
    for requirement in _requirements():
        name = canonicalize_name(requirement.name)
        if name in pins:
            assert requirement.specifier.contains(pins[name], prereleases=True), f"{name} {pins[name]} vs {requirement}"


def test_the_venv_has_the_locked_setuptools():
    assert Version(importlib.metadata.version("setuptools")) == _lock()["setuptools"]


def test_the_audit_says_in_one_line_that_it_skipped_when_no_advisory_source_answers():
    env = {**os.environ, "TIKABOT_AUDIT_PYPI_URL": "http://127.0.0.1:9/pypi",
           "TIKABOT_AUDIT_OSV_URL": "http://127.0.0.1:9/v1/query"}
    done = subprocess.run([str(ROOT / ".ci" / "audit")], env=env, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (0, "skipped: advisory database not reachable\n"), done.stderr
