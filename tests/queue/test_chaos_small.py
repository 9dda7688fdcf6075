"""The crash test, small: real worker processes SIGKILLed at random and Redis killed once,
with our web app taking the status callbacks. Nothing lost, nothing sent twice."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a system test: its own CI leg (./run test -m slow)

ROOT = Path(__file__).resolve().parents[2]


def test_workers_and_redis_killed_lose_and_duplicate_nothing():
    run = subprocess.run([sys.executable, str(ROOT / "bench" / "chaos_outbox.py"), "--messages", "300", "--kills", "8",
                          "--seed", "5", "--json"], cwd=ROOT, capture_output=True, text=True, timeout=400)
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["worker_kills"] == 8 and result["redis_kills"] == 1
    assert 0 < result["sent_during_kills"] < 300  # the kills landed while messages were going out
    assert (result["lost"], result["duplicates"], result["all_terminal"]) == (0, 0, True), result
    assert run.returncode == 0
