"""`tikabot channels` with C-DAC: the route, and what the district must register with MSDG for pull SMS."""
from __future__ import annotations

from click.testing import CliRunner

from tikabot.cli.main import main

TOKEN = "p" * 40


def test_channels_names_cdac_and_what_to_register_for_pull_sms(monkeypatch, tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'absent.db'}", "TIKABOT_ROUTES": "otp=cdac,twilio;reply=cdac,twilio",
           "CDAC_USERNAME": "wbhealth", "CDAC_PASSWORD": "pw", "CDAC_SECURE_KEY": "key", "CDAC_PULL_TOKEN": TOKEN,
           "CDAC_PULL_SOURCES": "164.100.14.211", "CDAC_TRUSTED_PROXIES": "10.0.0.2", "CDAC_KEYWORD": "WB TIKA",
           "PUBLIC_BASE_URL": "https://tika.wb.example.gov.in"}
    monkeypatch.delenv("REDIS_URL", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(main, ["channels"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert ["cdac", "yes"] in [line.split()[:2] for line in lines]  # a DLT route
    assert "warning" not in result.output
    assert ("  URL          https://tika.wb.example.gov.in/channels/cdac/inbound?token=<CDAC_PULL_TOKEN> "
            "(GET or POST, port 80 or 443)") in lines
    assert "  keyword      WB TIKA" in lines
    assert "  taken from   164.100.14.211/32 (through proxies 10.0.0.2/32)" in lines
    assert TOKEN not in result.output
