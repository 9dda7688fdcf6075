"""The floor plan holds: every import-linter contract in pyproject.toml is kept (layers, no cycle
between siblings in any package, channels that only translate, nothing below the bot imports it,
pure flows, a vocabulary that knows no provider). CI runs `lint-imports` too; this test says it
before a commit."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_import_contract_is_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_the_package_root_holds_only_the_entry_points_and_the_process_wiring():
    loose = sorted(p.name for p in (ROOT / "tikabot").glob("*.py"))
    assert loose == ["__init__.py", "__main__.py", "app.py", "config.py", "services.py"]
