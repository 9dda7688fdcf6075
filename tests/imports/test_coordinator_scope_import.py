"""staff.csv's `level` and `scope`: what a coordinator answers for, checked at import."""
from __future__ import annotations

import csv

import pytest
from sqlalchemy import select

from tests.support.cli import KALYANI, import_sites, tikabot_cli
from tikabot.store.models import Staff

HEADER = "phone,name,role,site_code,language,telegram_user_id,level,scope\n"


@pytest.fixture
def run(database_url, monkeypatch):
    return tikabot_cli(database_url, monkeypatch)


@pytest.fixture
def sites(run, tmp_path):
    import_sites(run, tmp_path, KALYANI, "S002,Siliguri DH,Darjeeling,West Bengal\n")


def test_levels_and_scopes_are_stored(run, sites, services, tmp_path):
    path = tmp_path / "staff.csv"
    path.write_text(HEADER + "9830000001,Asha,coordinator,,en,111,district,Darjeeling\n"
                    "9830000002,Raj,coordinator,,en,112,state,west bengal\n"
                    "9830000003,Mou,coordinator,S001,bn,113,site,\n"
                    "9830000004,Dipu,coordinator,S001,bn,114,,\n", encoding="utf-8")
    result = run("import", "staff", str(path))
    assert result.exit_code == 0, result.output
    with services.sessions() as s:
        stored = {p.name: (p.level, p.scope) for p in s.scalars(select(Staff))}
    assert stored == {"Asha": ("district", "Darjeeling"), "Raj": ("state", "west bengal"), "Mou": ("site", None),
                      "Dipu": (None, None)}


@pytest.mark.parametrize("row, reason", [
    ("9830000001,Asha,coordinator,,en,111,district,Darjiling", "scope 'Darjiling' is no district of the imported sites"),
    ("9830000001,Asha,coordinator,,en,111,state,Bihar", "scope 'Bihar' is no state of the imported sites"),
    ("9830000001,Asha,coordinator,,en,111,site,", "level site needs the coordinator's site_code"),
    ("9830000001,Asha,coordinator,S001,en,111,mobiliser,Nadia", "scope is for the district and state levels"),
    ("9830000001,Asha,coordinator,,en,111,block,", "level 'block' must be one of site, district, state, mobiliser"),
])
def test_a_scope_that_names_nothing_is_rejected_with_the_reason(run, sites, services, tmp_path, row, reason):
    path = tmp_path / "staff.csv"
    path.write_text(HEADER + row + "\n", encoding="utf-8")
    assert run("import", "staff", str(path)).exit_code == 3
    with (tmp_path / "staff.rejects.csv").open(encoding="utf-8") as f:
        [rejected] = list(csv.DictReader(f))
    assert reason in rejected["reason"]
    with services.sessions() as s:
        assert s.scalars(select(Staff)).all() == []
