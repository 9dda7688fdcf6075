"""`tikabot export doses` for reconciliation with the national portal, and importing it back.

A vaccinator verifies one beneficiary by OTP and one by the appointment's security code, records
three doses by SMS and undoes the last; the export says which rows are voided, how each
beneficiary was verified, their name and category, and when tikabot recorded the dose. Importing
that export back changes nothing, voided rows included.
"""
from __future__ import annotations

import csv
import functools
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.support.cli import tikabot_cli
from tests.support.worlds.runner import sayer
from tests.support.worlds.small_district import NOW, PHONES, add_district
from tikabot.outbox.sealing import of_session, readable

from tikabot.registry.doses_csv import COLUMNS
from tikabot.store.models import Beneficiary, Dose, OutboundMessage, Staff

VACCINATOR = "+919830000001"
OLD_COLUMNS = ["ref", "dose", "vaccine", "lot", "site_code", "administered_at", "vaccinator_phone", "source"]


@pytest.fixture
def cli(database_url, monkeypatch):
    return tikabot_cli(database_url, monkeypatch)


@pytest.fixture
def day(services):
    """The day played over SMS; returns the doses' ids by first name."""
    with services.transaction() as s:
        district = add_district(s)
        district.amit.name, district.amit.category = "=Amit Das", "45+ comorbid"
        s.add(Staff(phone=VACCINATOR, name="Mita Roy", role="vaccinator", site_id=district.kal.id, language="en"))
    sms = functools.partial(sayer(services), VACCINATOR)  # sms(text, minutes)

    sms("START COVISHIELD 4120Z025", 0)
    sms("VERIFY 12345678", 1)
    assert sms(f"OTP 12345678 {_sent_code(services, PHONES['rahima'])}", 2).startswith("Verified")
    sms("DOSE 12345678", 3)
    assert sms("OTP 23456789 8765", 4).startswith("Verified")  # Amit's security code
    sms("DOSE 23456789", 5)
    sms("DOSE 34567890", 6)  # Lata's dose 2, not verified
    sms("UNDO", 7)
    with services.sessions() as s:
        doses = s.execute(select(Beneficiary.name, Dose.id, Dose.voided).join(Dose.beneficiary).order_by(Dose.id)).all()
    assert {name.split()[0]: voided for name, _, voided in doses}["Lata"] is True
    return services


def _sent_code(services, phone: str) -> str:
    with services.sessions() as s:
        message = s.scalars(select(OutboundMessage).where(OutboundMessage.template == "otp.code",
                                                          OutboundMessage.recipient == phone)).one()
        text = readable(message.body, message.sealed_body, of_session(s))  # the body itself shows ******
    return re.search(r"\b\d{6}\b", text).group()


def exported(cli, *args) -> list[dict]:
    result = cli("export", "doses", *args)
    assert result.exit_code == 0
    return list(csv.DictReader(io.StringIO(result.output)))


def test_the_new_columns_come_after_the_old_ones(day, cli):
    header = cli("export", "doses").output.splitlines()[0].split(",")
    assert header[:8] == OLD_COLUMNS
    assert header[8:] == ["voided", "verified", "name", "category", "reported_at"] == list(COLUMNS[8:])


def test_the_export_says_voided_verified_name_category_and_when_reported(day, cli):
    rows = {r["ref"]: r for r in exported(cli, "--date", "2025-06-12", "--include-voided")}
    assert {ref: (r["voided"], r["verified"]) for ref, r in rows.items()} == {
        "12345678": ("no", "otp"), "23456789": ("no", "security_code"), "34567890": ("yes", "none")}
    assert rows["12345678"]["name"] == "Rahima Khatun"
    assert rows["23456789"]["name"] == "'=Amit Das" and rows["23456789"]["category"] == "45+ comorbid"
    assert rows["12345678"]["reported_at"] == "2025-06-12T10:33:00+05:30"
    assert rows["34567890"]["reported_at"] == "2025-06-12T10:36:00+05:30"
    assert [r["ref"] for r in exported(cli, "--date", "2025-06-12")] == ["12345678", "23456789"]


def test_a_dose_given_before_the_check_or_on_another_day_is_not_verified(day, cli, services):
    with services.transaction() as s:  # Rahima's check after her dose; Amit's the day before
        rahima, amit = (s.scalar(select(Dose).join(Dose.beneficiary).where(Beneficiary.ref == ref))
                        for ref in ("12345678", "23456789"))
        rahima.administered_at = NOW + timedelta(minutes=1)
        amit.administered_at = NOW + timedelta(days=1)
    rows = {r["ref"]: r["verified"] for r in exported(cli)}
    assert rows["12345678"] == "none" and rows["23456789"] == "none"


@pytest.mark.parametrize("args, rows", [((), 4), (("--include-voided",), 5)])
def test_importing_an_export_back_changes_nothing(day, cli, services, tmp_path, args, rows):
    path = tmp_path / "export.csv"
    assert cli("export", "doses", "-o", str(path), *args).exit_code == 0
    before = _doses(services)
    result = cli("import", "doses", str(path))
    assert result.output.strip() == f"doses: imported 0, updated 0, unchanged {rows}, rejected 0"
    assert result.exit_code == 0
    assert _doses(services) == before
    assert exported(cli, *args) == list(csv.DictReader(path.open(encoding="utf-8", newline="")))


def test_a_voided_export_row_does_not_recreate_a_dose_in_another_database(day, cli, services, tmp_path):
    path = tmp_path / "export.csv"
    cli("export", "doses", "--include-voided", "-o", str(path))
    with services.transaction() as s:
        s.execute(Dose.__table__.delete())
    result = cli("import", "doses", str(path))
    assert result.output.strip() == "doses: imported 4, updated 0, unchanged 1, rejected 0"
    with services.sessions() as s:
        refs = set(s.scalars(select(Beneficiary.ref).join(Dose, Dose.beneficiary_id == Beneficiary.id)))
    assert "34567890" in refs  # Lata's dose 1 (paper) came back; her voided dose 2 did not
    with services.sessions() as s:
        assert s.scalar(select(Dose).join(Dose.beneficiary).where(Beneficiary.ref == "34567890",
                                                                  Dose.dose_number == 2)) is None


def test_a_bad_voided_cell_is_rejected(day, cli, tmp_path):
    path = tmp_path / "doses.csv"
    path.write_text(",".join(OLD_COLUMNS) + ",voided\n"
                    "12345678,1,COVISHIELD,4120Z025,KAL,2025-06-12T10:33:00+05:30,,sms,maybe\n", encoding="utf-8")
    result = cli("import", "doses", str(path))
    assert result.exit_code == 3
    assert "voided 'maybe' must be yes or no" in (tmp_path / "doses.rejects.csv").read_text(encoding="utf-8")


def _doses(services):
    with services.sessions() as s:
        return sorted(s.execute(select(Dose.id, Dose.beneficiary_id, Dose.dose_number, Dose.vaccine, Dose.lot,
                                       Dose.voided, Dose.voided_at, Dose.administered_at, Dose.source,
                                       Dose.created_at)).all())
