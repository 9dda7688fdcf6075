"""`tikabot templates check`: passes on the shipped catalogs, fails when an OTP needs two SMS."""
from __future__ import annotations

import shutil

from click.testing import CliRunner

from tikabot.cli import main
from tikabot.i18n import catalog


def test_shipped_catalogs_pass():
    result = CliRunner().invoke(main, ["templates", "check"])
    assert result.exit_code == 0, result.output
    assert "otp.code                         bn   UCS-2      1" in result.output
    assert result.output.rstrip().endswith("0 problems")


def test_a_long_otp_translation_fails_the_check(tmp_path, monkeypatch):
    shutil.copytree(catalog.LOCALE_DIR, tmp_path / "locale")
    po = tmp_path / "locale" / "hi" / "LC_MESSAGES" / "messages.po"
    text = po.read_text(encoding="utf-8")
    start = text.index('msgid "otp.code"')
    end = text.index("\n", text.index("msgstr", start))
    po.write_text(text[:start] + 'msgid "otp.code"\nmsgstr "{code} आपका टीकाकरण सत्यापन कोड है। यह {minutes} मिनट '
                  'तक मान्य है। कृपया इसे किसी के साथ साझा न करें।"' + text[end:], encoding="utf-8")
    monkeypatch.setattr(catalog, "LOCALE_DIR", tmp_path / "locale")
    catalog._entries.cache_clear()
    try:
        result = CliRunner().invoke(main, ["templates", "check", "--quiet"])
    finally:
        monkeypatch.undo()
        catalog._entries.cache_clear()
    assert result.exit_code == 1
    assert "otp.code                         hi   UCS-2      2" in result.output
    assert "must fit one SMS" in result.output
