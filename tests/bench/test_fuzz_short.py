"""The fuzzer's short run: every target of bench/fuzz.py, a few hundred coverage-guided inputs each."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a system test: its own CI leg (./run test -m slow)

ROOT = Path(__file__).resolve().parents[2]


def test_a_short_fuzz_run_finds_no_crash(tmp_path):
    run = subprocess.run([sys.executable, str(ROOT / "bench" / "fuzz.py"), "--runs", "3500", "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    total = re.search(r"^total\s+([\d,]+) executions .* 0 crashes$", run.stdout, re.M)
    assert total and int(total.group(1).replace(",", "")) >= 3500, run.stdout
    assert run.stdout.count(" 0 crashes") == 11  # ten targets and the total
