"""`tikabot remind --dry-run --date`: a day's messages by site, masked, with segments; nothing written."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from click.testing import CliRunner

from tests.support.worlds.reminders import ist
from tikabot.core import clock
from tikabot.cli.main import main
from tikabot.store.models import Appointment, Beneficiary, Site

DAY = date(2021, 3, 10)


@pytest.fixture
def remind(world, database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("TIKABOT_QUIET_HOURS", raising=False)

    def run(*args, now):
        monkeypatch.setattr(clock, "now", lambda: now)
        return CliRunner().invoke(main, ["remind", *args], catch_exceptions=False)
    return run


@pytest.fixture
def booked(world):
    with world.services.transaction() as s:
        other = Site(code="S002", name="Barasat SDH")
        s.add(other)
        s.flush()
        other_id = other.id
    a = world.person(ref="0700000001", phone="+919830012345")
    b = world.person(ref="0700000002", name="সুমিতা দাস", phone="+919830012346", language="bn")
    c = world.person(ref="0700000003", phone="+919830012347")
    world.book(a, DAY)
    world.book(b, DAY, slot="11:00-13:00")
    later = world.book(c, DAY + timedelta(days=1))
    world.set(Appointment, later, site_id=other_id)
    return world


def test_dry_run_lists_the_days_messages_by_site_and_writes_nothing(remind, booked):
    result = remind("--dry-run", "--date", DAY.isoformat(), now=ist(DAY - timedelta(days=2), 12))
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "Appointment messages for 2021-03-10 (Asia/Kolkata)",
        "S001 Kalyani PHC: 2 messages, 3 segments",
        "  08:00  appt.reminder_morning    +91********45  en  1 seg  planned",
        "  08:00  appt.reminder_morning    +91********46  bn  2 seg  planned",
        "S002 Barasat SDH: 1 message, 1 segment",
        "  18:00  appt.reminder_eve        +91********47  en  1 seg  planned",
        "total: 3 messages, 4 segments",
    ]
    assert booked.messages() == []


def test_dry_run_shows_what_the_planner_already_wrote_and_leaves_out_the_withdrawn(remind, booked):
    booked.plan(ist(DAY - timedelta(days=1), 9))
    booked.set(Beneficiary, 2, opted_out=True)  # sumita sent STOP
    result = remind("--dry-run", "--date", DAY.isoformat(), now=ist(DAY - timedelta(days=1), 9, 30))
    lines = result.output.splitlines()
    assert "  08:00  appt.reminder_morning    +91********45  en  1 seg  pending" in lines
    assert not any("+91********46" in line for line in lines)


def test_dry_run_on_a_quiet_day(remind, world):
    result = remind("--dry-run", "--date", "2021-03-10", now=ist(DAY, 12))
    assert result.output.strip() == "No appointment messages for 2021-03-10 (Asia/Kolkata)."


def test_remind_without_dry_run_plans_once_and_says_what_it_did(remind, booked):
    result = remind(now=ist(DAY - timedelta(days=1), 9))
    assert result.output.strip() == "eve 2, morning 2"  # booking notices come only from the import
    again = remind(now=ist(DAY - timedelta(days=1), 9))
    assert again.output.strip() == "nothing to plan"


def test_bad_quiet_hours_setting_is_a_clear_error(remind, world, monkeypatch):
    monkeypatch.setenv("TIKABOT_QUIET_HOURS", "late")
    result = remind("--dry-run", now=ist(DAY, 12))
    assert result.exit_code == 1
    assert "quiet hours 'late' must look like 21:00-08:00" in result.output
