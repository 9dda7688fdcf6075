"""staff.csv `report_via`: the routes (gateway phones) each staff member may report through.

The column is optional: a file without it imports as before and leaves stored bindings alone."""
from __future__ import annotations

import csv

import pytest
from sqlalchemy import select

from tests.support.cli import import_sites, tikabot_cli
from tikabot.store.models import Staff

HEADER = "phone,name,role,site_code,language,telegram_user_id,level"


@pytest.fixture
def run(database_url, monkeypatch):
    return tikabot_cli(database_url, monkeypatch)


@pytest.fixture
def sites(run, tmp_path):
    import_sites(run, tmp_path)


def staff_file(tmp_path, header: str, *rows: str):
    path = tmp_path / "staff.csv"
    path.write_text("\n".join((header, *rows)) + "\n", encoding="utf-8")
    return path


def bindings(services) -> dict[str, str | None]:
    with services.sessions() as s:
        return dict(s.execute(select(Staff.phone, Staff.report_via)).all())


def test_report_via_is_imported_in_its_canonical_form(run, sites, services, tmp_path):
    path = staff_file(tmp_path, HEADER + ",report_via",
                      "9830000001,Mita,vaccinator,S001,en,,,android:ranaghat",
                      '9830000002,Sima,vaccinator,S001,bn,,,"Android:ranaghat, android:Kalyani android:ranaghat"',
                      "9830000003,Ravi,verifier,S001,hi,,,TWILIO exotel",
                      "9830000004,Asha,vaccinator,S001,bn,,,android USSD",
                      "9830000005,Nila,vaccinator,S001,bn,,,")
    result = run("import", "staff", str(path))
    assert result.exit_code == 0, result.output
    assert "imported 5" in result.output
    assert bindings(services) == {
        "+919830000001": "android:ranaghat",
        "+919830000002": "android:ranaghat android:Kalyani",  # the route in lower case, a phone id as it is
        "+919830000003": "twilio exotel",
        "+919830000004": "android ussd",  # any gateway phone, and the USSD menus
        "+919830000005": None,  # empty: any route
    }
    assert "unchanged 5" in run("import", "staff", str(path)).output


@pytest.mark.parametrize("cell, reason", [
    ("sms", "report_via 'sms' is not a route"),
    ("android:", "report_via 'android:' is not a route"),
    ("twilio:main", "report_via 'twilio:main' is not a route"),
    ("android:rana ghat?", "report_via 'ghat?' is not a route"),
    ("android:" + "x" * 25, "is not a route"),
])
def test_a_bad_report_via_gets_a_rejects_row_and_imports_nothing_of_that_row(run, sites, services, tmp_path,
                                                                              cell, reason):
    path = staff_file(tmp_path, HEADER + ",report_via",
                      "9830000001,Mita,vaccinator,S001,en,,,android:ranaghat",
                      f'9830000002,Sima,vaccinator,S001,bn,,,"{cell}"')
    result = run("import", "staff", str(path))
    assert result.exit_code == 3
    assert "imported 1" in result.output and "rejected 1" in result.output
    with open(tmp_path / "staff.rejects.csv", encoding="utf-8", newline="") as f:
        rejects = list(csv.DictReader(f))
    assert [r["phone"] for r in rejects] == ["9830000002"]
    assert reason in rejects[0]["reason"] and "line 3" in rejects[0]["reason"]
    assert "android:<phone id>" in rejects[0]["reason"]  # says what to write
    assert bindings(services) == {"+919830000001": "android:ranaghat"}


def test_a_file_without_the_column_imports_as_before_and_keeps_bindings(run, sites, services, tmp_path):
    assert run("import", "staff", str(staff_file(tmp_path, HEADER,
                                                  "9830000001,Mita,vaccinator,S001,en,,"))).exit_code == 0
    assert bindings(services) == {"+919830000001": None}
    run("import", "staff", str(staff_file(tmp_path, HEADER + ",report_via",
                                          "9830000001,Mita,vaccinator,S001,en,,,android:ranaghat")))
    result = run("import", "staff", str(staff_file(tmp_path, HEADER, "9830000001,Mita Roy,vaccinator,S001,en,,")))
    assert "updated 1" in result.output
    assert bindings(services) == {"+919830000001": "android:ranaghat"}  # an older file unbinds nobody
    run("import", "staff", str(staff_file(tmp_path, HEADER + ",report_via", "9830000001,Mita Roy,vaccinator,S001,en,,,")))
    assert bindings(services) == {"+919830000001": None}  # an empty cell does: any route again
