"""The DLT brand from the settings, through the commands a district runs: `tikabot dlt export`
registers it, `tikabot templates check` counts it in the length of every SMS that can go on a DLT
route, and a brand changed after approval shows: the check and `tikabot channels` say the approved
templates no longer match, and the next export leaves their ids out to be registered again."""
from __future__ import annotations

import csv

import pytest
from click.testing import CliRunner

from tikabot.cli.channels import describe, dlt_counts
from tikabot.cli.main import main
from tikabot.config import Config
from tikabot.i18n.catalog import render
from tikabot.i18n.samples import sample_params

ENTITY = "1101234567890123456"
LONG_BN = "কেরল রাজ্য স্বাস্থ্য ও পরিবার কল্যাণ দপ্তর"[:29]  # a long brand that is taken (at most 30)


@pytest.fixture
def district(tmp_path, monkeypatch):
    for name in ("TIKABOT_DLT_BRAND", "TIKABOT_DLT_BRAND_EN", "TIKABOT_DLT_BRAND_BN", "TIKABOT_DLT_BRAND_HI",
                 "TIKABOT_ROUTES", "TIKABOT_DLT_ROUTES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'tikabot.db'}")
    monkeypatch.setenv("TIKABOT_DLT_ENTITY_ID", ENTITY)
    monkeypatch.setenv("TIKABOT_DLT_HEADER", "WBHLTH")
    assert CliRunner().invoke(main, ["init-db"]).exit_code == 0
    return tmp_path


def export(where, name="templates.csv") -> list[dict]:
    out = where / name
    result = CliRunner().invoke(main, ["dlt", "export", "-o", str(out)])
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def approve_every_row(where, rows) -> None:
    for n, r in enumerate(rows, start=1):
        r["template_id"] = f"1107{n:015d}"
    path = where / "approved.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    result = CliRunner().invoke(main, ["dlt", "import", str(path)])
    assert result.exit_code == 0, result.output


def row(rows, key, lang, form="0"):
    return next(r for r in rows if (r["tikabot_key"], r["language"], r["form"]) == (key, lang, form))


def check_row(output: str, key: str, lang: str) -> list[str]:
    return next(line.split() for line in output.splitlines() if line.split()[:2] == [key, lang])


def test_the_export_registers_the_configured_brand_in_each_language(district, monkeypatch):
    monkeypatch.setenv("TIKABOT_DLT_BRAND", "Kerala Health")
    monkeypatch.setenv("TIKABOT_DLT_BRAND_HI", "केरल स्वास्थ्य विभाग")
    rows = export(district)
    assert row(rows, "staff.otp_wrong", "en", "1")["template_content"] == "Wrong code. {#var#} tries left. - Kerala Health"
    assert row(rows, "otp.code", "hi")["template_content"].endswith(" - केरल स्वास्थ्य विभाग")
    assert row(rows, "otp.code", "bn")["template_content"].endswith(" - Kerala Health")  # no _BN: every language's
    assert not [r for r in rows if "WB Health" in r["template_content"] or "बंगाल" in r["template_content"]]


def test_the_check_counts_the_brand_in_the_length_of_what_goes_on_a_dlt_route(district, monkeypatch):
    unrouted = CliRunner().invoke(main, ["templates", "check", "--quiet"])  # Twilio alone: no brand is added
    assert unrouted.exit_code == 0 and "measured without the DLT brand" in unrouted.output
    monkeypatch.setenv("TIKABOT_ROUTES", "otp=exotel,twilio")  # OTPs go by Exotel first
    plain = CliRunner().invoke(main, ["templates", "check", "--dlt"])
    assert plain.exit_code == 0, plain.output
    fits = check_row(plain.output, "otp.code", "bn")
    assert fits[5:7] == ["1", "OK"]  # the OTP with " - পঃবঃ স্বাস্থ্য দপ্তর" is one SMS
    assert "SMS that can go on a DLT route measured with its brand" in plain.output
    assert check_row(plain.output, "otp.code", "en")[3] == str(len(render("otp.code", "en", **sample_params("otp.code")))
                                                              + len(" - WB Health"))

    monkeypatch.setenv("TIKABOT_DLT_BRAND_BN", LONG_BN)
    long = CliRunner().invoke(main, ["templates", "check", "--dlt"])
    assert long.exit_code == 1
    over = check_row(long.output, "otp.code", "bn")
    assert over[4:7] == ["2", "1", "OVER"] and int(over[3]) == int(fits[3]) - 23 + 3 + len(LONG_BN)
    assert "over 1 SMS: 2 segments" in long.output

    assert check_row(long.output, "appt.booked", "bn")[6] != "OVER"  # confirmations go by Twilio alone


def test_a_brand_changed_after_approval_shows_the_approved_templates_no_longer_match(district, monkeypatch):
    rows = export(district)
    approve_every_row(district, rows)
    before = CliRunner().invoke(main, ["templates", "check", "--dlt", "--quiet"])
    assert "does not match" not in before.output, before.output
    counted = dlt_counts(Config.from_env(dotenv=False))
    assert counted == (len(rows), len(rows), 0)

    monkeypatch.setenv("TIKABOT_DLT_BRAND", "Kerala Health")
    check = CliRunner().invoke(main, ["templates", "check", "--dlt", "--quiet"])
    assert check.exit_code == 1
    assert "otp.code" in check.output and "the rendered message does not match the approved DLT text" in check.output

    monkeypatch.setenv("TIKABOT_ROUTES", "default=exotel,twilio")  # what `tikabot channels` shows for Exotel
    config = Config.from_env(dotenv=False)
    counted = dlt_counts(config)
    assert counted == (0, len(rows), len(rows))
    lines = describe(config, probe=False, dlt=counted)
    assert f"DLT templates approved: 0 of {len(rows)}" in "\n".join(lines)
    assert any(f"{len(rows)} approved for a text tikabot no longer sends (the DLT brand" in line for line in lines)

    again = export(district, "again.csv")  # the new texts, without the ids approved for the old ones
    assert all(r["template_id"] == "" and r["template_content"].endswith(" - Kerala Health") for r in again)
