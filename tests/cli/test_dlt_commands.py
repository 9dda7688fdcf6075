"""`tikabot dlt export` -> the DLT portal -> `tikabot dlt import`: the round trip an IT officer makes."""
from __future__ import annotations

import csv
import io

import pytest
from click.testing import CliRunner

from tikabot.cli.main import main

ENTITY = "1101234567890123456"


@pytest.fixture
def db(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'tikabot.db'}")
    monkeypatch.setenv("TIKABOT_DLT_ENTITY_ID", ENTITY)
    monkeypatch.setenv("TIKABOT_DLT_HEADER", "WBHLTH")
    assert CliRunner().invoke(main, ["init-db"]).exit_code == 0
    return tmp_path


def export(tmp_path, name="templates.csv"):
    out = tmp_path / name
    result = CliRunner().invoke(main, ["dlt", "export", "-o", str(out)])
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def write(tmp_path, rows, name="approved.csv"):
    path = tmp_path / name
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def row(rows, key, lang, form="0"):
    return next(r for r in rows if (r["tikabot_key"], r["language"], r["form"]) == (key, lang, form))


def test_export_has_every_template_in_every_language_with_var_placeholders(db):
    rows = export(db)
    booked = row(rows, "appt.booked", "bn")
    assert booked["template_content"].count("{#var#}") == int(booked["variables"]) == 5
    assert "{" not in booked["template_content"].replace("{#var#}", "")
    assert (booked["content_type"], booked["header"], booked["entity_id"], booked["category"]) == (
        "Unicode", "WBHLTH", ENTITY, "transactional")
    assert row(rows, "appt.booked", "en")["content_type"] == "Text"
    assert {r["language"] for r in rows} == {"en", "bn", "hi"}
    assert row(rows, "staff.otp_wrong", "en", "1")["template_content"] == "Wrong code. {#var#} tries left. - WB Health"  # the brand ends every template
    assert not [r for r in rows if r["tikabot_key"].startswith(("bot.", "ussd.")) or r["tikabot_key"] == "broadcast"]
    assert all(r["template_id"] == "" for r in rows)


def test_approved_ids_round_trip_and_show_in_the_next_export(db):
    rows = export(db)
    row(rows, "otp.code", "bn")["template_id"] = "1107161234567890123"
    row(rows, "appt.booked", "hi")["template_id"] = "1107161234567890124"
    result = CliRunner().invoke(main, ["dlt", "import", str(write(db, rows))])
    assert result.exit_code == 0, result.output
    assert f"loaded 2 approved templates, {len(rows) - 2} not approved yet" in result.output
    again = export(db, "again.csv")
    assert row(again, "otp.code", "bn")["template_id"] == "1107161234567890123"
    assert row(again, "appt.booked", "hi")["template_id"] == "1107161234567890124"
    # importing the same file again changes nothing
    assert CliRunner().invoke(main, ["dlt", "import", str(write(db, again, "same.csv"))]).exit_code == 0
    assert export(db, "third.csv") == again


def test_one_bad_line_and_nothing_is_loaded_every_problem_named_by_line(db):
    rows = export(db)
    row(rows, "otp.code", "en")["template_id"] = "1107161234567890123"            # fine
    row(rows, "otp.code", "bn")["template_id"] = "110716123456789012"             # 18 digits
    row(rows, "otp.code", "hi")["template_id"] = "1.10716E+18"                    # a spreadsheet's doing
    booked = row(rows, "appt.booked", "en")
    booked.update(template_id="1107161234567890199", header="WBHLT")               # 5 letters
    edited = row(rows, "appt.booked", "bn")
    edited.update(template_id="1107161234567890198", template_content=edited["template_content"] + " ")
    rows.append({**row(rows, "otp.code", "en"), "tikabot_key": "otp.nothing", "template_id": "1107161234567890197"})
    result = CliRunner().invoke(main, ["dlt", "import", str(write(db, rows))])
    assert result.exit_code == 3
    lines = result.output.splitlines()
    line_of = {(r["tikabot_key"], r["language"], r["form"]): i + 2 for i, r in enumerate(rows)}
    assert f"line {line_of[('otp.code', 'bn', '0')]}: template_id must be 19 digits, not '110716123456789012'" in lines
    assert any(l.startswith(f"line {line_of[('otp.code', 'hi', '0')]}: template_id '1.10716E+18' was turned into a "
                            "number by a spreadsheet") for l in lines)
    assert (f"line {line_of[('appt.booked', 'en', '0')]}: header must be the 6 registered letters, not 'WBHLT'"
            in lines)
    assert any(l.startswith(f"line {line_of[('appt.booked', 'bn', '0')]}: template_content differs") for l in lines)
    assert any(l.startswith(f"line {len(rows) + 1}: unknown template 'otp.nothing'") for l in lines)
    assert lines[-1] == "nothing loaded: 5 problem(s) in 5 line(s)"
    assert all(r["template_id"] == "" for r in export(db, "after.csv"))  # not even the good line


def test_a_file_that_is_not_the_export_is_refused_whole(db):
    path = db / "wrong.csv"
    path.write_text("name,phone\nx,y\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["dlt", "import", str(path)])
    assert result.exit_code == 2 and "missing column(s): tikabot_key" in result.output
    path.write_bytes("tikabot_key\n".encode("utf-16"))
    result = CliRunner().invoke(main, ["dlt", "import", str(path)])
    assert result.exit_code == 2 and "not UTF-8" in result.output


def test_a_header_with_the_operators_suffix_is_taken(db):
    rows = export(db)
    row(rows, "otp.code", "en").update(template_id="1107161234567890123", header="WBHLTH-S")
    assert CliRunner().invoke(main, ["dlt", "import", str(write(db, rows))]).exit_code == 0
    assert row(export(db, "after.csv"), "otp.code", "en")["template_id"] == "1107161234567890123"


def test_export_without_a_database_writes_to_stdout(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'absent.db'}")
    result = CliRunner().invoke(main, ["dlt", "export", "--entity-id", ENTITY, "--header", "WBHLTH"])
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) > 200 and not (tmp_path / "absent.db").exists()
