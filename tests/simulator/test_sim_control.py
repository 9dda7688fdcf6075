"""Control endpoints, configuration, segment counting and masked printing."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from tests.support.worlds.simulator import RECIPIENT, SENDER
from tikabot.simulator.__main__ import config_from_args, parse_args
from tikabot.simulator.config import DELIVERY_CODES, FaultConfig, spread_fail_rate
from tikabot.i18n.encoding import segments as count_segments
from tikabot.core.phones import mask as mask_phone


def call(url, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def test_messages_stats_and_reset_over_http(twilio, sim):
    twilio.messages.create(to=RECIPIENT, from_=SENDER, body="আপনার টিকা সোমবার")
    listed = call(f"{sim.url}/_sim/messages?to={urllib.request.quote(RECIPIENT)}")
    assert listed[0]["body"] == "আপনার টিকা সোমবার" and listed[0]["num_segments"] == 1
    assert call(f"{sim.url}/_sim/stats")["counts"]["messages_created"] == 1
    call(f"{sim.url}/_sim/reset", {})
    assert call(f"{sim.url}/_sim/messages") == []


def test_config_changes_over_http(sim):
    changed = call(f"{sim.url}/_sim/config", {"rate_429": 0.2, "latency_ms": 1})
    assert changed["rate_429"] == 0.2 and sim.sim.config.latency_ms == 1
    spread = call(f"{sim.url}/_sim/config", {"fail_rate": 0.1})
    assert spread["rate_500"] == pytest.approx(0.015)
    with pytest.raises(urllib.error.HTTPError) as caught:
        call(f"{sim.url}/_sim/config", {"no_such_field": 1})
    assert caught.value.code == 400
    caught.value.close()


def test_fail_rate_spreads_over_every_fault_kind():
    changes = spread_fail_rate(0.2)
    total = changes["rate_429"] + changes["rate_500"] + changes["rate_timeout"]
    total += sum(changes["delivery_errors"].values())
    assert total == pytest.approx(0.2)
    assert set(changes["delivery_errors"]) == {str(code) for code in DELIVERY_CODES}
    assert changes["fhir_rate_500"] + changes["fhir_rate_timeout"] == pytest.approx(0.11)  # the registry's own


def test_cli_flags_build_the_config():
    config = config_from_args(parse_args(["--fail-rate", "0.1", "--seed", "4",
                                          "--check-auth", "false", "--auth-token", "t"]))
    assert (config.seed, config.check_auth, config.auth_token) == (4, False, "t")
    assert config.rate_429 == pytest.approx(0.025)
    assert config_from_args(parse_args([])) == FaultConfig()


@pytest.mark.parametrize("text, segments", [
    ("", 1), ("a" * 160, 1), ("a" * 161, 2), ("a" * 306, 2), ("a" * 307, 3),
    ("{" * 80, 1), ("{" * 81, 2), ("ক" * 70, 1), ("ক" * 71, 2), ("it’s" + "a" * 66, 1),
    ("it’s" + "a" * 67, 2), ("😀" * 35, 1), ("😀" * 36, 2),
])
def test_segments(text, segments):
    assert count_segments(text) == segments


def test_phone_masking_keeps_country_code_and_last_two_digits():
    assert mask_phone("+8801712345678") == "+880********78"
    assert mask_phone("+919812345678") == "+91********78"
