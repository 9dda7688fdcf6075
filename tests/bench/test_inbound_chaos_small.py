"""The inbound crash test, small: DOSE reports stream into the webhook while inbox workers are
SIGKILLed, Redis is restarted and another process holds the database locked, with poison among
them (SMS no database can store, and such a line in the spool). With the spool
nothing answered 2xx is lost and nothing is lost at all; with the spool off, reports are lost (503s
Twilio does not retry), so the crash test can tell the difference."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a system test: its own CI leg (./run test -m slow)

ROOT = Path(__file__).resolve().parents[2]


def chaos(*flags: str) -> tuple[dict, int]:
    run = subprocess.run([sys.executable, str(ROOT / "bench" / "chaos.py"), "--kills", "6", "--outage", "3",
                          "--seed", "3", "--json", *flags], cwd=ROOT, capture_output=True, text=True, timeout=400)
    return json.loads(run.stdout.strip().splitlines()[-1]), run.returncode


def test_kills_a_redis_restart_and_a_locked_database_lose_nothing_answered():
    result, code = chaos()
    assert result["worker_kills"] == 6 and result["redis_restarts"] == 1 and result["outage_s"] >= 3
    assert result["answers"] == {"200": result["reports"]} and result["reports"] > 0
    assert (result["lost_of_2xx"], result["lost"], result["duplicate_doses"], result["duplicate_replies"],
            result["replies_missing"], result["all_processed"]) == (0, 0, 0, 0, 0, True), result
    # the poison: refused at the door, and the one line in the spool set aside without holding up the rest
    assert result["poison_sent"] > 0 and result["poison_answers"] == {"400": result["poison_sent"]}
    assert (result["poison_spooled"], result["set_aside"], result["set_aside_in_metrics"]) == (True, 1, 1.0), result
    assert code == 0


def test_without_the_spool_the_same_outage_loses_reports():
    result, code = chaos("--no-spool")
    assert result["only_2xx_or_503"] and result["answers"].get("503", 0) > 0
    assert result["lost"] > 0 and result["lost_of_2xx"] == 0  # what was answered 2xx is still kept
    assert code == 1
