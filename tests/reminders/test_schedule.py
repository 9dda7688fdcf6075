"""When each appointment message goes, in Asia/Kolkata wall-clock time, stored as UTC. No database."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from tikabot.core.clock import short_date
from tikabot.reminders import schedule as s
from tikabot.core.quiet_hours import parse_quiet_hours
from tikabot.reminders.policy import Policy

IST = ZoneInfo("Asia/Kolkata")
POLICY = Policy()
DAY = date(2021, 3, 10)


def ist(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=IST).astimezone(timezone.utc)


def test_evening_reminder_is_six_pm_local_which_is_half_past_noon_utc():
    t = s.timing(s.EVE, DAY, ist(DAY - timedelta(days=2), 12), POLICY, "09:00-11:00")
    assert t.send_at == datetime(2021, 3, 9, 12, 30, tzinfo=timezone.utc)
    assert t.expires_at == datetime(2021, 3, 9, 18, 30, tzinfo=timezone.utc)  # local midnight
    assert t.plan_from == t.send_at - timedelta(hours=24)


def test_morning_reminder_waits_for_the_end_of_quiet_hours_and_expires_with_the_slot():
    t = s.timing(s.MORNING, DAY, ist(DAY - timedelta(days=1), 9), POLICY, "09:00-11:00")
    assert t.send_at == ist(DAY, 8)
    assert t.expires_at == ist(DAY, 11)


def test_morning_reminder_at_seven_when_quiet_hours_end_earlier():
    policy = Policy(quiet=parse_quiet_hours("22:00-06:30"))
    assert s.timing(s.MORNING, DAY, ist(DAY - timedelta(days=1), 9), policy, "09:00-11:00").send_at == ist(DAY, 7)


@pytest.mark.parametrize("booked_at, goes_at", [
    ((22, 30), "next 08:00"), ((2, 0), "same 08:00"), ((20, 59), "at once"), ((8, 0), "at once")])
def test_booking_notice_respects_quiet_hours(booked_at, goes_at):
    day = date(2021, 3, 1)
    now = ist(day, *booked_at)
    t = s.timing(s.BOOKED, DAY, now, POLICY, "09:00-11:00")
    expected = {"next 08:00": ist(day + timedelta(days=1), 8), "same 08:00": ist(day, 8), "at once": now}[goes_at]
    assert t.send_at == expected
    assert t.not_before(now) == (None if goes_at == "at once" else expected)


def test_quiet_hours_off_sends_at_night():
    policy = Policy(quiet=parse_quiet_hours("off"))
    assert s.timing(s.BOOKED, DAY, ist(DAY, 2), policy, "09:00-11:00").send_at == ist(DAY, 2)


def test_a_reminder_planned_after_the_slot_ended_is_not_plannable():
    late = ist(DAY, 11)
    assert not s.plannable(s.timing(s.MORNING, DAY, late, POLICY, "09:00-11:00"), late)
    assert not s.plannable(s.timing(s.BOOKED, DAY, late, POLICY, "09:00-11:00"), late)
    assert s.plannable(s.timing(s.BOOKED, DAY, ist(DAY, 10, 59), POLICY, "09:00-11:00"), ist(DAY, 10, 59))


def test_an_evening_reminder_first_planned_in_quiet_hours_is_dropped_not_sent_next_morning():
    now = ist(DAY - timedelta(days=1), 21, 30)
    assert not s.plannable(s.timing(s.EVE, DAY, now, POLICY, "09:00-11:00"), now)


def test_missed_message_is_planned_only_once_the_day_is_over():
    t = s.timing(s.MISSED, DAY, ist(DAY, 23), POLICY, "09:00-11:00")
    assert not s.plannable(t, ist(DAY, 23))
    next_day = ist(DAY + timedelta(days=1), 0, 5)
    t = s.timing(s.MISSED, DAY, next_day, POLICY, "09:00-11:00")
    assert s.plannable(t, next_day) and t.send_at == ist(DAY + timedelta(days=1), 10)


@pytest.mark.parametrize("kind, status, has_dose, opted_out, expected", [
    (s.BOOKED, "booked", False, True, False),      # STOP: nothing on the bulk queue, the notice too
    (s.EVE, "booked", False, True, False),         # STOP stops reminders
    (s.EVE, "confirmed", False, False, True),
    (s.MORNING, "cancelled", False, False, False),
    (s.MORNING, "booked", True, False, False),     # dose already recorded
    (s.MISSED, "missed", False, False, True),
    (s.EVE, "missed", False, False, False),
])
def test_what_is_still_wanted(kind, status, has_dose, opted_out, expected):
    assert s.wanted(kind, status, has_dose, opted_out) is expected


@pytest.mark.parametrize("text", ["21-08", "25:00-08:00", "21:00-21:00", "night"])
def test_bad_quiet_hours_are_refused_with_a_reason(text):
    with pytest.raises(ValueError, match="quiet hours"):
        parse_quiet_hours(text)


def test_keys_carry_the_appointment_date():
    assert s.appointment_key(7, s.EVE, DAY) == "appt-7-eve-2021-03-10"
    assert s.due_key(3, s.DUE_DAY, DAY) == "due-3-d2-dueday-2021-03-10"
    assert short_date(DAY) == "10 Mar"
