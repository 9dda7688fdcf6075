"""What an import makes of the file itself: refused files, the file's own line numbers in rejects,
a rejects file that is safe to open in a spreadsheet, dates relative to the import day."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st
from sqlalchemy import func, select

from tests.support.cli import import_sites, tikabot_cli
from tikabot.core import clock
from tikabot.imports.csvfile import read_rows
from tikabot.imports.fields import RowError, booking_date
from tikabot.core.spreadsheet import unprefixed
from tikabot.store.models import Appointment, Beneficiary

NOW = datetime(2025, 6, 12, 20, 0, tzinfo=timezone.utc)  # 01:30 on 13 June in Kolkata
KOLKATA_TODAY = date(2025, 6, 13)
HEADER = "ref,name,phone,language,category,site_code\n"


@pytest.fixture
def run(database_url, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)
    return tikabot_cli(database_url, monkeypatch)


@pytest.fixture
def sites(run, tmp_path):
    return import_sites(run, tmp_path)


def count(services, model) -> int:
    with services.sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("content, reason", [
    ("ref,name,phone,language,category,site_code,name\n1111111111,A,9830011111,en,,S001,B\n",
     "has column(s) name more than once"),
    ("ref,name,phone,Phone ,language,category,site_code\n1111111111,A,9830011111,9830011112,en,,S001\n",
     "has column(s) phone more than once"),
    (HEADER + "1111111111,Good,9830011111,en,,S001\n2222222222,Nul\x00l,9830022222,en,,S001\n",
     "p.csv line 3 holds a NUL character"),
    (HEADER + '1111111111,"Two\nlines",9830011111,en,,S001\n2222222222,B,9830022222,en,,S001,extra\n',
     "p.csv line 4 has more cells than the header"),
])
def test_a_duplicate_header_or_a_nul_refuses_the_file_in_one_line(run, sites, services, tmp_path, content, reason):
    path = tmp_path / "p.csv"
    path.write_text(content, encoding="utf-8")
    result = run("import", "beneficiaries", str(path))
    assert result.exit_code == 2
    assert reason in result.output and len(result.output.strip().splitlines()) == 1
    assert count(services, Beneficiary) == 0
    assert not (tmp_path / "p.rejects.csv").exists()


def test_a_utf16_file_is_told_to_be_saved_as_utf8(run, sites, services, tmp_path):
    path = tmp_path / "p.csv"
    path.write_bytes((HEADER + "1111111111,A,9830011111,en,,S001\n").encode("utf-16-le"))
    result = run("import", "beneficiaries", str(path))
    assert result.exit_code == 2 and "save it as CSV UTF-8" in result.output
    assert count(services, Beneficiary) == 0


def test_reject_lines_are_the_files_own_lines(run, sites, services, tmp_path):
    path = tmp_path / "p.csv"
    path.write_text(HEADER
                    + '1111111111,"Rahima\nKhatun",9830011111,en,,S001\n'  # lines 2-3
                    + "\n"  # line 4: blank
                    + "2222222222,Bad Phone,12345,en,,S001\n"  # line 5
                    + '3333333333,"A\r\nB\r\nC",9830033333,en,,S001\n'  # lines 6-8
                    + "44,Short Ref,9830044444,en,,S001\n", encoding="utf-8")  # line 9
    result = run("import", "beneficiaries", str(path))
    assert result.exit_code == 3
    assert "beneficiaries: imported 2, updated 0, unchanged 0, rejected 2" in result.output
    rejects = list(csv.DictReader((tmp_path / "p.rejects.csv").open(encoding="utf-8", newline="")))
    assert [r["reason"].split(":")[0] for r in rejects] == ["line 5", "line 9"]


def test_the_rejects_file_is_formula_safe_and_can_be_imported_again_once_fixed(run, sites, services, tmp_path):
    path = tmp_path / "p.csv"
    path.write_text(HEADER + "1111111111,=HYPERLINK(\"http://x\"),+919830011111,en,@risk,S999\n"
                    "2222222222,-Ravi,9830022222,fr,+60,S001\n", encoding="utf-8")
    assert run("import", "beneficiaries", str(path)).exit_code == 3
    text = (tmp_path / "p.rejects.csv").read_text(encoding="utf-8")
    cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")]
    rows = list(csv.DictReader(io.StringIO(text)))
    assert (rows[0]["name"], rows[0]["phone"], rows[0]["category"]) == ("'=HYPERLINK(\"http://x\")", "'+919830011111",
                                                                        "'@risk")
    assert rows[1]["name"] == "'-Ravi" and rows[1]["category"] == "'+60"
    fixed = tmp_path / "fixed.csv"
    fixed.write_text(text.replace("S999", "S001").replace(",fr,", ",en,"), encoding="utf-8")
    result = run("import", "beneficiaries", str(fixed))  # the reason column is not read
    assert result.output.strip() == "beneficiaries: imported 2, updated 0, unchanged 0, rejected 0"
    with services.sessions() as s:
        names = dict(s.execute(select(Beneficiary.ref, Beneficiary.name)).all())
        phones = set(s.scalars(select(Beneficiary.phone)))
    assert names == {"1111111111": "=HYPERLINK(\"http://x\")", "2222222222": "-Ravi"}
    assert phones == {"+919830011111", "+919830022222"}


def test_appointment_dates_relative_to_the_import_day_in_local_time(run, sites, services, tmp_path):
    people = tmp_path / "b.csv"
    people.write_text(HEADER + "".join(f"{n}{n}{n}{n}{n}{n}{n}{n},P{n},98300{n}{n}{n}{n}{n},en,,S001\n"
                                       for n in range(1, 6)), encoding="utf-8")
    run("import", "beneficiaries", str(people))
    path = tmp_path / "a.csv"
    path.write_text("ref,site_code,dose,date,slot\n"
                    "11111111,S001,1,today,09:00-11:00\n"
                    "22222222,S001,1,Tomorrow,09:00-11:00\n"
                    "33333333,S001,1,today+7,09:00-11:00\n"
                    "44444444,S001,1,TODAY + 0,09:00-11:00\n"
                    "55555555,S001,1,2025-07-01,09:00-11:00\n", encoding="utf-8")
    result = run("import", "appointments", str(path))
    assert result.output.strip() == "appointments: imported 5, updated 0, unchanged 0, rejected 0"
    with services.sessions() as s:
        dates = [d for d in s.scalars(select(Appointment.date).order_by(Appointment.beneficiary_id))]
    assert dates == [KOLKATA_TODAY, KOLKATA_TODAY + timedelta(days=1), KOLKATA_TODAY + timedelta(days=7),
                     KOLKATA_TODAY, date(2025, 7, 1)]


@pytest.mark.parametrize("value, reason", [
    ("yesterday", "must be YYYY-MM-DD, today, tomorrow or today+N"),
    ("today-1", "must be YYYY-MM-DD, today, tomorrow or today+N"),
    ("+1", "must be YYYY-MM-DD, today, tomorrow or today+N"),
    ("today+x", "must be YYYY-MM-DD, today, tomorrow or today+N"),
    ("tomorrow+1", "must be YYYY-MM-DD, today, tomorrow or today+N"),
    ("16/01/2021", "must be YYYY-MM-DD, today, tomorrow or today+N"),
    ("today+400", "at most 365 days ahead"),
])
def test_a_bad_relative_date_is_rejected_with_what_to_write(value, reason):
    with pytest.raises(RowError, match=reason.replace("+", r"\+")):
        booking_date(value, KOLKATA_TODAY)


def test_the_samples_book_people_today_and_tomorrow(run, services, examples_dir):
    for kind in ("sites", "staff", "beneficiaries", "appointments"):
        assert run("import", kind, str(examples_dir / f"{kind}.csv")).exit_code == 0
    with services.sessions() as s:
        due = dict(s.execute(select(Appointment.date, func.count()).group_by(Appointment.date)).all())
    assert set(due) == {KOLKATA_TODAY, KOLKATA_TODAY + timedelta(days=1)}
    assert all(n >= 10 for n in due.values())


CELL = st.text(alphabet=st.sampled_from(list("ab ,\"'\n\r=-+@৩")), max_size=6)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(CELL, CELL), min_size=1, max_size=6), st.lists(st.booleans(), min_size=6, max_size=6))
def test_every_row_comes_with_the_line_it_starts_on(tmp_path_factory, rows, blanks):
    """Property: whatever quoted newlines and blank lines a file holds, a row's line number is the
    physical line (counting \\n, \\r\\n and \\r) where it starts; its cells come back as written."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)  # \r\n, as a spreadsheet saves: a cell holding \r or \n is quoted
    writer.writerow(["a", "b"])
    expected = []
    for (a, b), blank in zip(rows, blanks):
        if blank:
            out.write("\r\n")
        text = out.getvalue()
        expected.append((len(io.StringIO(text, newline="").readlines()) + 1, a, b))
        writer.writerow([a, b])
    path = tmp_path_factory.mktemp("csv") / "f.csv"
    path.write_bytes(out.getvalue().encode("utf-8"))
    _, read = read_rows(path, ("a", "b"), ("a",))
    assert [(line, row["a"], row["b"]) for line, row in read] == [
        (n, unprefixed(a.strip()), unprefixed(b.strip())) for n, a, b in expected]
