"""`tikabot --version`: the release an operator runs, as pyproject.toml and CHANGELOG.md name it."""
import re
import tomllib
from pathlib import Path

from click.testing import CliRunner

from tikabot.cli.main import main

REPO = Path(__file__).resolve().parents[2]


def test_version_is_the_release_in_pyproject_and_the_changelog():
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip().endswith(f" {version}")
    # every release has its changelog entry, newest first
    releases = re.findall(r"^## \[?(\d+\.\d+\.\d+)", (REPO / "CHANGELOG.md").read_text(), re.M)
    assert releases and releases[0] == version
