import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tikabot.flows import vaccines
from tikabot.flows.parse import ERRORS, Parsed, parse, tokens
from tikabot.i18n.catalog import all_keys

# (text, expected fields); fields not named must keep their default.
CASES = [
    ("dose 1234-5678-90 2", dict(keyword="DOSE", ref="1234567890", dose=2)),
    ("DOSE১২৩৪৫৬৭৮ ১", dict(keyword="DOSE", ref="12345678", dose=1)),
    ("Dose, 12345678,2,covishield,4120Z025",
     dict(keyword="DOSE", ref="12345678", dose=2, vaccine="COVISHIELD", vaccine_known=True, lot="4120Z025")),
    ("ডোজ ১২৩৪৫৬৭৮", dict(keyword="DOSE", ref="12345678")),
    ("टीका १२३४५६७८ 1", dict(keyword="DOSE", ref="12345678", dose=1)),
    ("डोज़ 12345678", dict(keyword="DOSE", ref="12345678")),
    ("   DOSE    12345678     2   ", dict(keyword="DOSE", ref="12345678", dose=2)),
    ("dose 12345678 2.", dict(keyword="DOSE", ref="12345678", dose=2)),
    ("DOSE 12345678 2।", dict(keyword="DOSE", ref="12345678", dose=2)),
    ("Dose: 12345678!", dict(keyword="DOSE", ref="12345678")),
    ("DOSE:12345678", dict(keyword="DOSE", ref="12345678")),
    ("dose*12345678*1#", dict(keyword="DOSE", ref="12345678", dose=1)),
    ("DOSE 12345678 cx 2 ab12", dict(keyword="DOSE", ref="12345678", dose=2, vaccine="COVAXIN",
                                     vaccine_known=True, lot="AB12")),
    ("DOSE 12345678 4120z025", dict(keyword="DOSE", ref="12345678", lot="4120Z025")),
    ("DOSE 12345678 D2 CVS", dict(keyword="DOSE", ref="12345678", dose=2, vaccine="COVISHIELD",
                                  vaccine_known=True)),
    ("DOSE 2 12345678", dict(keyword="DOSE", ref="12345678", dose=2)),
    ("DOSE 12345678 কোভিশিল্ড", dict(keyword="DOSE", ref="12345678", vaccine="COVISHIELD",
                                      vaccine_known=True)),
    ("DOSE 12345678 2 SPUTNIK 4120Z025", dict(keyword="DOSE", ref="12345678", dose=2, vaccine="SPUTNIK",
                                             lot="4120Z025", error="unknown_vaccine")),
    ("DOSE 12345678 7", dict(keyword="DOSE", ref="12345678", dose=7, error="bad_dose")),
    ("DOSE 12345", dict(keyword="DOSE", error="bad_ref")),
    ("DOSE 123456789012345", dict(keyword="DOSE", error="bad_ref")),
    ("DOSE ABCDEFGH", dict(keyword="DOSE", error="bad_ref")),
    ("DOSE", dict(keyword="DOSE", error="missing_ref")),
    ("start covishield 4120Z025", dict(keyword="START", vaccine="COVISHIELD", vaccine_known=True,
                                       lot="4120Z025")),
    ("START 4120Z025 CS", dict(keyword="START", vaccine="COVISHIELD", vaccine_known=True, lot="4120Z025")),
    ("START CS", dict(keyword="START", vaccine="COVISHIELD", vaccine_known=True, error="missing_lot")),
    ("START 4120Z025", dict(keyword="START", lot="4120Z025", error="missing_vaccine")),
    ("START PFIZER 4120Z025", dict(keyword="START", vaccine="PFIZER", lot="4120Z025",
                                   error="unknown_vaccine")),
    ("start", dict(keyword="START")),
    ("শুরু", dict(keyword="START")),
    ("otp 12345678 ১২৩৪৫৬", dict(keyword="OTP", ref="12345678", code="123456")),
    ("OTP 12345678 4321", dict(keyword="OTP", ref="12345678", code="4321")),
    ("OTP 12345678 १२३४५६", dict(keyword="OTP", ref="12345678", code="123456")),
    ("OTP 12345678", dict(keyword="OTP", ref="12345678", error="missing_code")),
    ("OTP 12345678 12AB56", dict(keyword="OTP", ref="12345678", error="bad_code")),
    ("OTP 12345678 12", dict(keyword="OTP", ref="12345678", error="bad_code")),
    ("OTP", dict(keyword="OTP", error="missing_ref")),
    ("verify 98765-43210", dict(keyword="VERIFY", ref="9876543210")),
    ("যাচাই ৯৮৭৬৫৪৩২", dict(keyword="VERIFY", ref="98765432")),
    ("VERIFY", dict(keyword="VERIFY", error="missing_ref")),
    ("AEFI 12345678 severe fainted, fell down.",
     dict(keyword="AEFI", ref="12345678", severity="SEVERE", note="fainted, fell down.")),
    ("aefi 12345678 minor", dict(keyword="AEFI", ref="12345678", severity="MINOR")),
    ("AEFI 12345678 গুরুতর জ্বর", dict(keyword="AEFI", ref="12345678", severity="SEVERE", note="জ্বর")),
    ("AEFI 12345678 हल्का", dict(keyword="AEFI", ref="12345678", severity="MINOR")),
    ("AEFI 12345678 fever", dict(keyword="AEFI", ref="12345678", error="missing_severity")),
    ("AEFI 12345678", dict(keyword="AEFI", ref="12345678", error="missing_severity")),
    ("lang bn", dict(keyword="LANG", lang="BN")),
    ("LANG বাংলা", dict(keyword="LANG", lang="BN")),
    ("भाषा हिंदी", dict(keyword="LANG", lang="HI")),
    ("lang English", dict(keyword="LANG", lang="EN")),
    ("LANG FR", dict(keyword="LANG", error="bad_lang")),
    ("LANG", dict(keyword="LANG", error="missing_lang")),
    ("বাংলা", dict(keyword="LANG", lang="BN")),
    ("HINDI", dict(keyword="LANG", lang="HI")),
    ("hi", dict(error="unknown_command")),  # a greeting, not a language switch
    ("UNDO", dict(keyword="UNDO")),
    ("count", dict(keyword="COUNT")),
    ("end.", dict(keyword="END")),
    ("help?", dict(keyword="HELP")),
    ("মদদ", dict(error="unknown_command")),
    ("मदद", dict(keyword="HELP")),
    ("YES", dict(keyword="YES")),
    ("y", dict(keyword="YES")),
    ("1", dict(keyword="YES")),
    ("১", dict(keyword="YES")),
    ("haan", dict(keyword="YES")),
    ("হ্যাঁ", dict(keyword="YES")),
    ("हाँ", dict(keyword="YES")),
    ("No", dict(keyword="NO")),
    ("n", dict(keyword="NO")),
    ("2", dict(keyword=None, error="unknown_command")),  # also a dose number: cancels nothing
    ("cancel", dict(keyword="NO")),
    ("বাতিল", dict(keyword="NO")),
    ("रद्द", dict(keyword="NO")),
    ("nahi", dict(keyword="NO")),
    ("না", dict(keyword="NO")),
    ("stop", dict(keyword="STOP")),
    ("বন্ধ", dict(keyword="STOP")),
    ("", dict(error="empty")),
    ("   ,,, ** ## ", dict(error="empty")),
    ("hello there", dict(error="unknown_command")),
    ("12345678", dict(error="unknown_command")),
]


@pytest.mark.parametrize("text, expected", CASES)
def test_parse_table(text, expected):
    got = parse(text)
    want = Parsed(**{**expected, "args": got.args, "usage": got.usage})
    assert got == want
    if got.keyword:
        assert got.usage == f"usage.{got.keyword}"


def test_args_are_normalised():
    assert parse("dose 1234-5678 ২, covi.").args == ("1234-5678", "2", "COVI")
    assert parse("yes please").args == ("PLEASE",)


def test_tokens_for_guided_answers():
    assert tokens(" ২. ") == ("2",)
    assert tokens("4120z025") == ("4120Z025",)


def test_error_codes_are_documented_and_usage_keys_exist():
    keys = set(all_keys())
    for text, expected in CASES:
        got = parse(text)
        assert got.error is None or got.error in ERRORS
        assert got.usage is None or got.usage in keys


def test_non_string_input_is_empty():
    assert parse(None).error == "empty"  # type: ignore[arg-type]


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_parse_never_raises_and_refs_are_ascii(text):
    got = parse(text)
    assert isinstance(got, Parsed)
    if got.ref is not None:
        assert re.fullmatch(r"[0-9]{6,14}", got.ref)
    if got.code is not None:
        assert re.fullmatch(r"[0-9]+", got.code)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["DOSE", "ডোজ", "OTP", "AEFI", "LANG", "১২৩৪৫৬৭৮", "1234-5678",
                                 "2", "CS", "4120Z025", "SEVERE", ",", "*", "#", " ", "।", "-"]),
                max_size=8).map(" ".join))
def test_parse_never_raises_on_grammar_like_input(text):
    got = parse(text)
    assert got.ref is None or re.fullmatch(r"[0-9]{6,14}", got.ref)


# ---- vaccines

@pytest.fixture
def builtin_vaccines():
    vaccines.load_vaccines()
    yield
    vaccines.load_vaccines()


def test_builtin_vaccines(builtin_vaccines):
    for alias in ("covishield", "CS", "covi", "Cvs"):
        assert vaccines.resolve(alias).name == "COVISHIELD"
    for alias in ("COVAXIN", "cx", "Cova", "CVX"):
        assert vaccines.resolve(alias).name == "COVAXIN"
    v = vaccines.resolve("cs")
    assert (v.min_interval_days, v.doses) == (28, 2)
    assert vaccines.resolve("sputnik") is None
    assert vaccines.resolve("") is None


def test_vaccines_from_toml(tmp_path, builtin_vaccines):
    path = tmp_path / "vaccines.toml"
    path.write_text(
        '[[vaccine]]\nname = "Corbevax"\naliases = ["cbx"]\nmin_interval_days = 84\ndoses = 2\n'
        '[[vaccine]]\nname = "COVISHIELD"\naliases = ["CS"]\nmin_interval_days = 84\ndoses = 2\n',
        encoding="utf-8",
    )
    loaded = vaccines.load_vaccines(path)
    assert set(loaded) == {"COVISHIELD", "COVAXIN", "CORBEVAX"}
    assert vaccines.resolve("CBX").min_interval_days == 84
    assert vaccines.resolve("CS").min_interval_days == 84
    assert vaccines.resolve("COVI") is None  # overridden alias list
    assert parse("DOSE 12345678 2 cbx L1").vaccine == "CORBEVAX"


@pytest.mark.parametrize(
    "content",
    [
        '[[vaccine]]\naliases = ["X"]\n',
        '[[vaccine]]\nname = "X"\ndoses = 0\n',
        '[[vaccine]]\nname = "X"\nmin_interval_days = "28"\n',
        '[[vaccine]]\nname = "X"\naliases = ["CS"]\n',  # alias already COVISHIELD's
        'vaccine = "COVISHIELD"\n',
        "not toml [",
    ],
)
def test_bad_vaccine_file_changes_nothing(tmp_path, content, builtin_vaccines):
    path = tmp_path / "vaccines.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError):
        vaccines.load_vaccines(path)
    assert vaccines.resolve("COVI").name == "COVISHIELD"
