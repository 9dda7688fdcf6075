"""The install prints no packaging deprecation: the licence is an SPDX expression (PEP 639)."""
from __future__ import annotations

import importlib.metadata
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent


def test_the_license_is_an_spdx_expression_and_setuptools_understands_it():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["license"] == "MIT"
    setuptools = next(Requirement(r) for r in project["build-system"]["requires"] if r.startswith("setuptools"))
    assert not setuptools.specifier.contains("76.9")  # 77 is the first to read PEP 639 licences
    assert importlib.metadata.metadata("tikabot")["License-Expression"] == "MIT"  # as installed by ./run setup
