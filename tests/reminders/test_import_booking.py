"""Importing appointments adds the booking SMS once; a new date adds one more and withdraws the old."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from tests.support.worlds.reminders import ist
from tikabot.core import clock
from tikabot.imports.runner import run_import
from tikabot.reminders.planner import plan
from tikabot.store.models import OutboundMessage

NOW = ist(date(2021, 3, 1), 11)


@pytest.fixture
def district(services, tmp_path, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)
    files = {
        "sites": "code,name,district,state\nS001,Kalyani PHC,Nadia,West Bengal\n",
        "beneficiaries": "ref,name,phone,language,category,site_code\n"
                         "0700000001,Rahima Khatun,+919830012345,en,60+,S001\n"
                         "0700000002,সুমিতা দাস,+919830012346,bn,60+,S001\n",
        "appointments": "ref,site_code,dose,date,slot\n"
                        "0700000001,S001,1,2021-03-04,09:00-11:00\n"
                        "0700000002,S001,1,2021-03-04,11:00-13:00\n",
    }
    for kind, text in files.items():
        (tmp_path / f"{kind}.csv").write_text(text, encoding="utf-8")
        run_import(services.sessions, kind, tmp_path / f"{kind}.csv")
    return tmp_path


def notices(services):
    with services.sessions() as s:
        return list(s.scalars(select(OutboundMessage).where(OutboundMessage.template == "appt.booked")
                              .order_by(OutboundMessage.id)))


def test_import_sends_each_person_the_booking_with_date_slot_site_and_code(services, district):
    sent = notices(services)
    assert [m.recipient for m in sent] == ["+919830012345", "+919830012346"]
    assert sent[0].body.startswith("Dear Rahima, your vaccination is on 4 Mar, 9-11 am at Kalyani PHC. "
                                   "Security code ")
    assert sent[1].language == "bn" and "সকাল ১১টা–দুপুর ১টা" in sent[1].body
    assert all(m.priority == "bulk" and m.not_before is None for m in sent)  # 16:30 IST: not quiet


def test_the_booking_sms_are_handed_to_the_queue_when_the_import_commits(services, district):
    from tikabot.outbox.transport import READY

    assert [int(v) for v in services.redis.lrange(READY["bulk"], 0, -1)] == [m.id for m in notices(services)]


def test_reimporting_the_same_file_sends_nothing_more(services, district):
    result = run_import(services.sessions, "appointments", district / "appointments.csv")
    assert result.summary() == "appointments: imported 0, updated 0, unchanged 2, rejected 0"
    assert len(notices(services)) == 2


def test_a_dry_run_import_sends_nothing(services, tmp_path, monkeypatch, district):
    path = tmp_path / "more.csv"
    path.write_text("ref,site_code,dose,date,slot\n0700000001,S001,2,2021-04-04,09:00-11:00\n", encoding="utf-8")
    run_import(services.sessions, "appointments", path, dry_run=True)
    assert len(notices(services)) == 2


def test_a_new_date_brings_a_new_notice_and_the_planner_drops_the_old_reminders(services, district):
    with services.transaction() as s:
        plan(s, ist(date(2021, 3, 3), 9), services.config)  # eve and morning of 4 Mar are written
    path = district / "appointments.csv"
    path.write_text(path.read_text().replace("0700000001,S001,1,2021-03-04", "0700000001,S001,1,2021-03-08"))
    assert run_import(services.sessions, "appointments", path).summary() == (
        "appointments: imported 0, updated 1, unchanged 1, rejected 0")
    rahima = [m.body.split(", ")[1] for m in notices(services) if m.recipient == "+919830012345"]
    assert rahima == ["your vaccination is on 4 Mar", "your vaccination is on 8 Mar"]
    with services.transaction() as s:
        counts = plan(s, ist(date(2021, 3, 3), 9, 5), services.config)
    assert counts == {"cancelled": 3}  # Rahima's old notice (had it not gone), evening and morning reminders
    with services.sessions() as s:
        pending = s.scalars(select(OutboundMessage.idempotency_key).where(
            OutboundMessage.status == "pending", OutboundMessage.recipient == "+919830012345")).all()
    assert sorted(k.split("-", 2)[2] for k in pending) == ["booked-2021-03-08"]


def test_bad_quiet_hours_are_said_once_before_any_row_is_read(tmp_path, monkeypatch):
    """Not a stack trace halfway through importing appointments."""
    from click.testing import CliRunner

    from tikabot.cli.main import main

    monkeypatch.setenv("TIKABOT_QUIET_HOURS", "after dinner")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    (tmp_path / "appointments.csv").write_text("ref,site_code,dose,date,slot\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["import", "appointments", str(tmp_path / "appointments.csv"), "--dry-run"])
    assert result.exit_code == 1
    assert result.output.strip() == "Error: quiet hours 'after dinner' must look like 21:00-08:00 (or off)"


def _booked_code(services, message) -> str:
    """The security code as the person reads it in their booking SMS (the outbox shows ****)."""
    from tikabot.outbox.sealing import of_session, readable

    with services.sessions() as s:
        text = readable(message.body, message.sealed_body, of_session(s))
    return text.split("Security code ")[1][:4]


def _verifies(services, ref: str, code: str) -> str:
    from tikabot.codes import otp
    from tikabot.store.models import Beneficiary

    with services.transaction() as s:
        person = s.scalar(select(Beneficiary).where(Beneficiary.ref == ref))
        return otp.check(s, beneficiary_id=person.id, code=code, secret=services.config.otp_secret, now=NOW,
                         today=date(2021, 3, 1), checked_by="+919830000001").outcome


def test_the_security_code_is_in_the_booking_sms_only_and_at_rest_only_as_a_hash(services, district):
    from sqlalchemy import text

    sent = notices(services)
    code = _booked_code(services, sent[0])
    assert code.isdigit() and "****" in sent[0].body  # the outbox shows it masked, as before
    with services.sessions() as s:
        stored = [tuple(r) for r in s.execute(text("SELECT * FROM appointments")).all()]
    assert all(len(row[6]) == 64 for row in stored)  # security_code_hash: an HMAC
    assert not any(code == str(v) for row in stored for v in row)  # the code itself is nowhere in the table
    assert _verifies(services, "0700000001", code) == "ok"


def test_a_new_date_brings_a_new_code_and_the_old_one_stops_verifying(services, district):
    old = _booked_code(services, notices(services)[0])
    path = district / "appointments.csv"
    path.write_text(path.read_text().replace("0700000001,S001,1,2021-03-04", "0700000001,S001,1,2021-03-08"))
    run_import(services.sessions, "appointments", path)
    new = _booked_code(services, [m for m in notices(services) if m.recipient == "+919830012345"][-1])
    assert _verifies(services, "0700000001", new) == "ok"
    if new != old:  # one chance in 10,000 that the new code is the old one
        assert _verifies(services, "0700000001", old) == "wrong"
