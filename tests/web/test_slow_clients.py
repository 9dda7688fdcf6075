"""The web tier as the Procfile ships it, against clients that send their headers a byte a second:
a signed webhook is still answered, and gunicorn listens for nothing but the app."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_slow_clients_do_not_starve_the_webhooks_and_no_control_socket_is_opened():
    run = subprocess.run([sys.executable, str(ROOT / "bench" / "slow_clients.py"), "--slow", "3,20", "--probes", "2",
                          "--probe-timeout", "5", "--json"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    result = json.loads(run.stdout.strip().splitlines()[-1])
    for round_ in result["rounds"]:  # sync workers answered none of these: 3 slow clients held both
        assert round_["answered"] == round_["probes"], round_
        assert round_["max_ms"] < 2000, round_
    assert result["control_sockets"] == []
    assert run.returncode == 0
