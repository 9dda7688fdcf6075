"""`tikabot import` and `tikabot export doses` as an operator runs them."""
from __future__ import annotations

import csv
import io
import shutil

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from tests.support.cli import tikabot_cli
from tikabot.cli.main import main
from tikabot.store.models import Appointment, Beneficiary, Dose, Site, Staff

KINDS = ("sites", "staff", "beneficiaries", "appointments")


@pytest.fixture
def run(database_url, monkeypatch):
    return tikabot_cli(database_url, monkeypatch)


@pytest.fixture
def samples(examples_dir, tmp_path):
    for kind in KINDS:
        shutil.copy(examples_dir / f"{kind}.csv", tmp_path / f"{kind}.csv")
    return tmp_path


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def count(services, model):
    with services.sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


def import_samples(run, samples):
    return [run("import", kind, str(samples / f"{kind}.csv")) for kind in KINDS]


def test_samples_import_then_reimport_changes_nothing(run, samples, services):
    first = import_samples(run, samples)
    assert [r.output.strip() for r in first] == [
        "sites: imported 3, updated 0, unchanged 0, rejected 0",
        "staff: imported 10, updated 0, unchanged 0, rejected 0",
        "beneficiaries: imported 50, updated 0, unchanged 0, rejected 0",
        "appointments: imported 50, updated 0, unchanged 0, rejected 0"]
    assert all(r.exit_code == 0 for r in first)
    codes = _security_codes(services)
    second = import_samples(run, samples)
    assert [r.output.strip() for r in second] == [
        "sites: imported 0, updated 0, unchanged 3, rejected 0",
        "staff: imported 0, updated 0, unchanged 10, rejected 0",
        "beneficiaries: imported 0, updated 0, unchanged 50, rejected 0",
        "appointments: imported 0, updated 0, unchanged 50, rejected 0"]
    assert count(services, Beneficiary) == 50 and count(services, Appointment) == 50
    assert _security_codes(services) == codes  # a re-import never changes a code already sent


def _security_codes(services):
    with services.sessions() as s:
        codes = dict(s.execute(select(Appointment.id, Appointment.security_code_hash)).all())
    assert all(len(c) == 64 for c in codes.values())  # an HMAC, never the code
    return codes


def test_bengali_and_hindi_names_are_kept_exactly(run, samples, services, tmp_path):
    import_samples(run, samples)
    write(tmp_path / "b.csv", "ref,name,phone,language,category,site_code\n"
          "1234-5678-90,ঋতুপর্ণা চট্টোপাধ্যায়,098300 12345,bn,60+,S001\n"
          "2234567890,सुनीता यादव,+91 98300 12346,HI,60+,s001\n")
    result = run("import", "beneficiaries", str(tmp_path / "b.csv"))
    assert result.output.strip() == "beneficiaries: imported 2, updated 0, unchanged 0, rejected 0"
    with services.sessions() as s:
        people = {b.ref: b for b in s.scalars(select(Beneficiary).where(Beneficiary.ref.in_(["1234567890", "2234567890"])))}
    assert people["1234567890"].name == "ঋতুপর্ণা চট্টোপাধ্যায়"
    assert people["1234567890"].phone == "+919830012345"
    assert people["2234567890"].name == "सुनीता यादव" and people["2234567890"].language == "hi"


def test_bad_rows_go_to_rejects_file_and_good_rows_still_land(run, samples, services, tmp_path):
    run("import", "sites", str(samples / "sites.csv"))
    path = write(tmp_path / "people.csv", "ref,name,phone,language,category,site_code\n"
                 "1111111111,Good One,9830011111,en,,S001\n"
                 "2222222222,Bad Phone,12345,en,,S001\n"
                 "33,Short Ref,9830033333,en,,S001\n"
                 "4444444444,No Site,9830044444,en,,S999\n"
                 "5555555555,Odd Lang,9830055555,fr,,S001\n"
                 "6666666666,Good Two,9830066666,,,S002\n")
    result = run("import", "beneficiaries", str(path))
    assert result.exit_code == 3
    assert "beneficiaries: imported 2, updated 0, unchanged 0, rejected 4" in result.output
    rejects = list(csv.DictReader((tmp_path / "people.rejects.csv").open(encoding="utf-8")))
    assert [r["ref"] for r in rejects] == ["2222222222", "33", "4444444444", "5555555555"]
    reasons = " | ".join(r["reason"] for r in rejects)
    assert "line 3" in reasons and "not a valid number" in reasons
    assert "6-14 digits" in reasons and "S999 is not registered" in reasons and "en, bn or hi" in reasons
    assert count(services, Beneficiary) == 2


def test_duplicate_rows_in_one_file_count_once(run, samples, services, tmp_path):
    run("import", "sites", str(samples / "sites.csv"))
    row = "7777777777,Twice,9830077777,en,,S001\n"
    result = run("import", "beneficiaries", str(write(tmp_path / "d.csv",
                 "ref,name,phone,language,category,site_code\n" + row + row)))
    assert result.output.strip() == "beneficiaries: imported 1, updated 0, unchanged 1, rejected 0"
    assert count(services, Beneficiary) == 1


@pytest.mark.parametrize("content, reason", [
    ("", "no header row"),
    ("ref,name\n1234567890,A\n", "missing column(s) phone,site_code"),
    ("1234567890,A,9830012345,en,,S001\n", "missing column(s)"),
])
def test_malformed_file_changes_nothing_and_exits_2(run, samples, services, tmp_path, content, reason):
    run("import", "sites", str(samples / "sites.csv"))
    result = run("import", "beneficiaries", str(write(tmp_path / "m.csv", content)))
    assert result.exit_code == 2
    assert reason in result.output and len(result.output.strip().splitlines()) == 1
    assert count(services, Beneficiary) == 0


def test_file_not_in_utf8_is_refused(run, samples, services, tmp_path):
    run("import", "sites", str(samples / "sites.csv"))
    path = tmp_path / "latin.csv"
    path.write_bytes("ref,name,phone,language,category,site_code\n1234567890,Jos\xe9,9830012345,en,,S001\n".encode("latin-1"))
    result = run("import", "beneficiaries", str(path))
    assert result.exit_code == 2 and "not UTF-8" in result.output
    assert count(services, Beneficiary) == 0


def test_dry_run_reports_but_saves_nothing(run, samples, services):
    result = run("import", "sites", str(samples / "sites.csv"), "--dry-run")
    assert result.exit_code == 0 and "imported 3" in result.output and "dry run" in result.output
    assert count(services, Site) == 0


def test_staff_roles_and_coordinator_without_site(run, samples, services, tmp_path):
    run("import", "sites", str(samples / "sites.csv"))
    result = run("import", "staff", str(write(tmp_path / "s.csv",
                 "phone,name,role,site_code,language,telegram_user_id\n"
                 "9830000001,Coord,coordinator,,en,4242\n"
                 "9830000002,Vax,vaccinator,S001,bn,\n"
                 "9830000003,Who,driver,S001,bn,\n"
                 "9830000004,NoSite,verifier,,bn,\n")))
    assert result.exit_code == 3 and "staff: imported 2, updated 0, unchanged 0, rejected 2" in result.output
    with services.sessions() as s:
        coord = s.scalar(select(Staff).where(Staff.role == "coordinator"))
    assert coord.site_id is None and coord.telegram_user_id == 4242


def test_rescheduled_appointment_keeps_its_security_code(run, samples, services, tmp_path):
    import_samples(run, samples)
    first = (samples / "appointments.csv").read_text(encoding="utf-8").splitlines()[1]
    ref = first.split(",")[0]
    moved = first.replace(",today,", ",2021-01-18,")
    with services.sessions() as s:
        before = s.scalar(select(Appointment).join(Beneficiary).where(Beneficiary.ref == ref))
    result = run("import", "appointments", str(write(tmp_path / "a.csv", "ref,site_code,dose,date,slot\n" + moved + "\n")))
    assert result.output.strip() == "appointments: imported 0, updated 1, unchanged 0, rejected 0"
    with services.sessions() as s:
        after = s.get(Appointment, before.id)
    assert str(after.date) == "2021-01-18" and after.security_code_hash == before.security_code_hash


DOSES = ("ref,dose,vaccine,lot,site_code,administered_at,vaccinator_phone,source\n"
         "0700000001,1,covishield,4120Z025,S001,2021-01-16T10:30:00+05:30,+918161973069,paper\n"
         "0700000002,1,COVAXIN,B1,S002,2021-01-16T11:00:00+05:30,,paper\n")


def test_paper_doses_imported_twice_are_not_duplicated(run, samples, services, tmp_path):
    import_samples(run, samples)
    path = write(tmp_path / "doses.csv", DOSES)
    assert run("import", "doses", str(path)).output.strip() == "doses: imported 2, updated 0, unchanged 0, rejected 0"
    assert run("import", "doses", str(path)).output.strip() == "doses: imported 0, updated 0, unchanged 2, rejected 0"
    assert count(services, Dose) == 2
    with services.sessions() as s:
        dose = s.scalar(select(Dose).join(Beneficiary).where(Beneficiary.ref == "0700000001"))
    assert dose.vaccine == "COVISHIELD" and dose.source == "paper"
    assert dose.administered_at.isoformat() == "2021-01-16T05:00:00+00:00"


def test_paper_dose_already_reported_by_sms_is_not_duplicated(run, samples, services, tmp_path):
    import_samples(run, samples)
    with services.transaction() as s:
        person = s.scalar(select(Beneficiary).where(Beneficiary.ref == "0700000001"))
        from datetime import datetime, timezone
        s.add(Dose(beneficiary_id=person.id, dose_number=1, vaccine="COVISHIELD", lot="4120Z025",
                   site_id=person.site_id, administered_at=datetime(2021, 1, 16, 5, 1, tzinfo=timezone.utc),
                   source="sms"))
    result = run("import", "doses", str(write(tmp_path / "doses.csv", DOSES)))
    assert result.output.strip() == "doses: imported 1, updated 0, unchanged 1, rejected 0"
    assert count(services, Dose) == 2


def test_paper_dose_with_bad_fields_is_rejected(run, samples, services, tmp_path):
    import_samples(run, samples)
    result = run("import", "doses", str(write(tmp_path / "doses.csv",
                 "ref,dose,vaccine,lot,site_code,administered_at,vaccinator_phone,source\n"
                 "0700000001,1,sputnik,L1,S001,2021-01-16T10:30:00+05:30,,paper\n"
                 "0700000002,1,covaxin,L1,S001,2021-01-16T10:30:00,,paper\n"
                 "0700000003,4,covaxin,L1,S001,2021-01-16T10:30:00+05:30,,paper\n"
                 "0700000004,1,covaxin,L1,S001,2021-01-16T10:30:00+05:30,,fax\n")))
    assert result.exit_code == 3 and "rejected 4" in result.output
    reasons = (tmp_path / "doses.rejects.csv").read_text(encoding="utf-8")
    for expected in ("not known", "needs a UTC offset", "must be 1, 2 or 3", "source 'fax'"):
        assert expected in reasons
    assert count(services, Dose) == 0


def test_export_doses_is_formula_safe_and_filters(run, samples, services, tmp_path):
    import_samples(run, samples)
    run("import", "doses", str(write(tmp_path / "doses.csv", DOSES.replace("B1", "=HYPERLINK(1)"))))
    out = run("export", "doses", "--date", "2021-01-16", "--format", "csv").output
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["ref"] for r in rows] == ["0700000001", "0700000002"]
    assert rows[0]["administered_at"] == "2021-01-16T10:30:00+05:30"
    assert rows[1]["lot"] == "'=HYPERLINK(1)"
    assert rows[0]["vaccinator_phone"] == "+918161973069"
    only_s2 = list(csv.DictReader(io.StringIO(run("export", "doses", "--site", "S002").output)))
    assert [r["ref"] for r in only_s2] == ["0700000002"]
    other_day = list(csv.DictReader(io.StringIO(run("export", "doses", "--date", "2021-01-17").output)))
    assert other_day == []


def test_export_leaves_out_voided_doses_unless_asked(run, samples, services, tmp_path):
    import_samples(run, samples)
    run("import", "doses", str(write(tmp_path / "doses.csv", DOSES)))
    with services.transaction() as s:
        s.scalars(select(Dose)).first().voided = True
    assert len(list(csv.DictReader(io.StringIO(run("export", "doses").output)))) == 1
    assert len(list(csv.DictReader(io.StringIO(run("export", "doses", "--include-voided").output)))) == 2


def test_a_dose_cell_of_superscript_two_is_a_rejects_row_not_a_crash(run, samples, services, tmp_path):
    import_samples(run, samples)  # "²".isdigit() is true, int("²") fails
    result = run("import", "doses", str(write(tmp_path / "doses.csv",
                 "ref,dose,vaccine,lot,site_code,administered_at,vaccinator_phone,source\n"
                 "0700000001,\u00b2,covaxin,L1,S001,2021-01-16T10:30:00+05:30,,paper\n"
                 "0700000002,\u09e7,COVAXIN,B1,S002,2021-01-16T11:00:00+05:30,,paper\n")))  # Bengali 1 still reads
    assert result.exit_code == 3 and "imported 1" in result.output and "rejected 1" in result.output
    assert "must be 1, 2 or 3" in (tmp_path / "doses.rejects.csv").read_text(encoding="utf-8")
    staff = run("import", "staff", str(write(tmp_path / "staff.csv", "phone,name,role,site_code,language,"
                                               "telegram_user_id\n+919830000001,Mita,coordinator,,en,\u00b2\u00b3\n")))
    assert staff.exit_code == 3 and "must be a number" in (tmp_path / "staff.rejects.csv").read_text(encoding="utf-8")


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_export_of_a_day_at_the_end_of_the_calendar_is_a_clear_error(run, samples, day):
    import_samples(run, samples)
    for fmt in ("csv", "fhir"):
        result = CliRunner().invoke(main, ["export", "doses", "--date", day, "--format", fmt])
        assert result.exit_code == 2 and "out of range" in result.output and result.exception is not None
        assert not isinstance(result.exception, OverflowError)
