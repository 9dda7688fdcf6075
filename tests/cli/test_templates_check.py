"""`tikabot templates check`: passes on the shipped catalogs, fails when an OTP needs two SMS."""
from __future__ import annotations

import shutil

from click.testing import CliRunner

from tikabot.cli.main import main
from tikabot.i18n import catalog


def row(output: str, key: str, lang: str) -> list[str]:
    return next(line.split() for line in output.splitlines() if line.split()[:2] == [key, lang])


def test_shipped_catalogs_pass():
    result = CliRunner().invoke(main, ["templates", "check"])
    assert result.exit_code == 0, result.output
    assert row(result.output, "otp.code", "bn")[2:] == ["UCS-2", "45", "1", "1", "OK"]
    assert result.output.rstrip().endswith("0 problems")
    assert "bot.help" not in result.output  # the coordinator bot's replies go by Telegram, never SMS


def test_a_long_otp_translation_fails_the_check(tmp_path, monkeypatch):
    shutil.copytree(catalog.LOCALE_DIR, tmp_path / "locale")
    po = tmp_path / "locale" / "hi" / "LC_MESSAGES" / "messages.po"
    text = po.read_text(encoding="utf-8")
    start = text.index('msgid "otp.code"')
    end = text.index("\n", text.index("msgstr", start))
    po.write_text(text[:start] + 'msgid "otp.code"\nmsgstr "{code} आपका टीकाकरण सत्यापन कोड है। यह {minutes} मिनट '
                  'तक मान्य है। कृपया इसे किसी के साथ साझा न करें।"' + text[end:], encoding="utf-8")
    monkeypatch.setattr(catalog, "LOCALE_DIR", tmp_path / "locale")
    catalog.clear_cache()
    try:
        result = CliRunner().invoke(main, ["templates", "check", "--quiet"])
    finally:
        monkeypatch.undo()
        catalog.clear_cache()
    assert result.exit_code == 1
    assert row(result.output, "otp.code", "hi")[4:7] == ["2", "1", "OVER"]
    assert "over 1 SMS: 2 segments" in result.output


def test_with_a_database_the_check_measures_the_longest_real_names_and_prices_a_day(tmp_path, monkeypatch):
    """A long Hindi site name adds a segment to the Hindi booking SMS: the samples would not show it."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'tikabot.db'}")
    sites = tmp_path / "sites.csv"
    sites.write_text("code,name,district,state,name_en,name_bn,name_hi\n"
                     "S001,বসিরহাট মহকুমা হাসপাতাল ও প্রাথমিক স্বাস্থ্যকেন্দ্র নম্বর দুই,উত্তর ২৪ পরগনা,West Bengal,"
                     "Basirhat Subdivisional Hospital and Primary Health Centre Number Two,,"
                     "बसीरहाट अनुमंडल अस्पताल एवं प्राथमिक स्वास्थ्य केंद्र संख्या दो\n", encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(main, ["init-db"]).exit_code == 0
    assert runner.invoke(main, ["import", "sites", str(sites)]).exit_code == 0
    samples = CliRunner().invoke(main, ["templates", "check", "--samples"]).output
    real = CliRunner().invoke(main, ["templates", "check"])
    assert real.exit_code == 1, real.output  # that name makes the Hindi booking SMS 3 segments

    def segments(output, key, lang):
        return int(row(output, key, lang)[4])

    assert segments(real.output, "appt.booked", "hi") > segments(samples, "appt.booked", "hi")
    assert segments(real.output, "appt.booked", "en") == 2  # the English name keeps it GSM-7
    assert "measured with the longest real values: 1 sites, 0 beneficiaries" in real.output
    assert "msgs/day" in real.output and "a day: 0 segments, cost 0.00" in real.output


def test_no_database_means_samples_and_none_is_created(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'absent.db'}")
    result = CliRunner().invoke(main, ["templates", "check", "--quiet"])
    assert result.exit_code == 0 and "measured with sample values (no database)" in result.output
    assert not (tmp_path / "absent.db").exists()


def test_a_booking_sms_of_three_segments_fails_the_check(tmp_path, monkeypatch):
    """The booking SMS as it was before issue 26: 3 UCS-2 segments with the longest Bengali values."""
    shutil.copytree(catalog.LOCALE_DIR, tmp_path / "locale")
    po = tmp_path / "locale" / "bn" / "LC_MESSAGES" / "messages.po"
    text = po.read_text(encoding="utf-8")
    start = text.index('msgid "appt.booked"')
    end = text.index("\n", text.index("msgstr", start))
    po.write_text(text[:start] + 'msgid "appt.booked"\nmsgstr "নমস্কার {name}, আপনার টিকা: {date}, {slot}, {site}। '
                  'সুরক্ষা কোড {code}। নিশ্চিত করতে YES বা 1, বাতিল করতে NO বা 2 পাঠান।"' + text[end:], encoding="utf-8")
    monkeypatch.setattr(catalog, "LOCALE_DIR", tmp_path / "locale")
    catalog.clear_cache()
    try:
        result = CliRunner().invoke(main, ["templates", "check", "--quiet"])
    finally:
        monkeypatch.undo()
        catalog.clear_cache()
    assert result.exit_code == 1
    assert row(result.output, "appt.booked", "bn")[4:7] == ["3", "2", "OVER"]
    assert "over 2 SMS: 3 segments" in result.output
