"""sites.csv's optional name_en, name_bn, name_hi: stored, checked, and used in each reader's messages."""
from __future__ import annotations

import csv
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.support.cli import tikabot_cli
from tests.support.worlds.runner import sayer
from tests.support.worlds.small_district import NOW, PHONES, add_district
from tikabot.store.models import Site


@pytest.fixture
def run(database_url, monkeypatch):
    return tikabot_cli(database_url, monkeypatch)


def _site(services, code):
    with services.sessions() as s:
        return s.scalar(select(Site).where(Site.code == code))


def test_the_samples_carry_three_names_and_import_them(run, examples_dir, services):
    rows = list(csv.DictReader((examples_dir / "sites.csv").open(encoding="utf-8")))
    assert rows and all(r["name_en"] and r["name_bn"] and r["name_hi"] for r in rows)
    assert run("import", "sites", str(examples_dir / "sites.csv")).exit_code == 0
    site = _site(services, "S002")
    assert (site.name_en, site.name_bn, site.name_hi) == (
        "Basirhat Health Centre 1", "বসিরহাট স্বাস্থ্যকেন্দ্র ১", "बसीरहाट स्वास्थ्य केंद्र 1")


def test_an_english_name_that_sms_cannot_carry_plainly_is_rejected(run, services, tmp_path):
    path = tmp_path / "sites.csv"
    path.write_text("code,name,name_en\nS9,কল্যাণী,Kalyani – PHC\nS8,কল্যাণী 2,Kalyani PHC 2\n", encoding="utf-8")
    result = run("import", "sites", str(path))
    assert result.exit_code == 3 and "sites: imported 1, updated 0, unchanged 0, rejected 1" in result.output
    reasons = (tmp_path / "sites.rejects.csv").read_text(encoding="utf-8")
    assert "name_en 'Kalyani – PHC' has '–'" in reasons


def test_a_file_without_the_name_columns_leaves_the_names_alone(run, examples_dir, services, tmp_path):
    run("import", "sites", str(examples_dir / "sites.csv"))
    old = tmp_path / "old.csv"
    old.write_text("code,name,district,state\nS002,বসিরহাট স্বাস্থ্যকেন্দ্র 1,উত্তর ২৪ পরগনা,West Bengal\n", encoding="utf-8")
    assert "unchanged 1" in run("import", "sites", str(old)).output
    assert _site(services, "S002").name_hi == "बसीरहाट स्वास्थ्य केंद्र 1"


def test_each_reader_is_told_the_site_in_their_language(services):
    with services.transaction() as s:
        district = add_district(s)
        district.bar.name, district.bar.name_en = "বারাসত মহকুমা হাসপাতাল", "Barasat SDH"
        district.bar.name_hi = "बारासात अनुमंडल अस्पताल"
    say = sayer(services, at=NOW + timedelta(minutes=1))

    assert say(PHONES["amit"], "HELP").startswith("Your vaccination: 14 Jun, 11 am-1 pm at Barasat SDH.")
    with services.transaction() as s:
        s.get(type(district.amit), district.amit.id).language = "hi"
    hindi = say(PHONES["amit"], "HELP")
    assert "बारासात अनुमंडल अस्पताल" in hindi and not any("\u0980" <= ch <= "\u09ff" for ch in hindi)
