"""Settings refused at start with one line naming what is wrong: the DLT brand (TIKABOT_DLT_BRAND,
_EN/_BN/_HI) ends every message on a domestic route, so a value that cannot is never taken."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from tikabot.cli.main import main
from tikabot.config import Config

BRAND_VARS = ("TIKABOT_DLT_BRAND", "TIKABOT_DLT_BRAND_EN", "TIKABOT_DLT_BRAND_BN", "TIKABOT_DLT_BRAND_HI")


@pytest.fixture
def env(monkeypatch):
    for name in BRAND_VARS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_unset_keeps_the_catalog_brand_and_each_language_may_have_its_own(env):
    assert Config.from_env(dotenv=False).dlt_brand == {}
    env.setenv("TIKABOT_DLT_BRAND", "  Kerala Health ")
    env.setenv("TIKABOT_DLT_BRAND_HI", "केरल स्वास्थ्य विभाग")
    assert Config.from_env(dotenv=False).dlt_brand == {"en": "Kerala Health", "bn": "Kerala Health",
                                                       "hi": "केरल स्वास्थ्य विभाग"}


@pytest.mark.parametrize("name, value, said", [
    ("TIKABOT_DLT_BRAND", "   ", "TIKABOT_DLT_BRAND is empty"),
    ("TIKABOT_DLT_BRAND_BN", "", "TIKABOT_DLT_BRAND_BN is empty"),
    ("TIKABOT_DLT_BRAND", "Department of Health and Family Welfare", "is 39 characters, at most 30"),
    ("TIKABOT_DLT_BRAND", "Kerala {Health}", "has a { or }"),
    ("TIKABOT_DLT_BRAND_HI", "केरल\nस्वास्थ्य", "TIKABOT_DLT_BRAND_HI: the brand is one line"),
    ("TIKABOT_DLT_BRAND", "কেরল স্বাস্থ্য", "characters outside GSM-7"),
    ("TIKABOT_DLT_BRAND_EN", "Kerala Health – Govt", "outside GSM-7 (–), which would send every English SMS as UCS-2"),
])
def test_a_brand_that_cannot_end_every_message_is_refused_naming_the_setting(env, name, value, said):
    env.setenv(name, value)
    with pytest.raises(ValueError) as caught:
        Config.from_env(dotenv=False)
    assert said in str(caught.value) and name in str(caught.value)


def test_a_bengali_brand_for_every_language_says_to_give_english_its_own(env):
    env.setenv("TIKABOT_DLT_BRAND", "কেরল স্বাস্থ্য")
    with pytest.raises(ValueError, match="TIKABOT_DLT_BRAND_EN"):
        Config.from_env(dotenv=False)
    env.setenv("TIKABOT_DLT_BRAND_EN", "Kerala Health")  # English gets its own: taken
    assert Config.from_env(dotenv=False).dlt_brand["en"] == "Kerala Health"


def test_a_command_started_with_a_bad_brand_stops_with_one_line(env, tmp_path):
    env.chdir(tmp_path)
    result = CliRunner().invoke(main, ["dlt", "export"], env={"TIKABOT_DLT_BRAND": "x" * 31})
    assert result.exit_code != 0
    assert "Error: TIKABOT_DLT_BRAND: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' is 31 characters" in result.output
    assert "Traceback" not in result.output
