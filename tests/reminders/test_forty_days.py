"""One beneficiary's 40 days, from booking to dose 2, with the planner and a stand-in sender
running every two hours: every message once, at its local time, in order."""
from __future__ import annotations

from datetime import date, timedelta

from tests.support.worlds.reminders import IST, ist
from tikabot.reminders.policy import Policy
from tikabot.reminders.booking import announce_booking
from tikabot.store.models import Appointment


def book(world, who, day, dose, now):
    appt_id = world.book(who, day, dose=dose, code="7310")
    with world.services.transaction() as s:
        announce_booking(s, s.get(Appointment, appt_id), "4821", now, Policy.from_config(world.config))


def test_forty_days_from_booking_to_second_dose(world):
    who = world.person()
    start = date(2021, 3, 1)
    log: list[tuple[str, str]] = []
    for step in range(40 * 12):
        now = ist(start, 10) + timedelta(hours=2 * step)
        local = now.astimezone(IST)
        if (local.month, local.day, local.hour) == (3, 1, 10):
            book(world, who, date(2021, 3, 3), 1, now)
        if (local.month, local.day, local.hour) == (3, 3, 10):
            world.dose(who, 1, now - timedelta(minutes=20))
        if (local.month, local.day, local.hour) == (4, 1, 12):
            book(world, who, date(2021, 4, 5), 2, now)
        if (local.month, local.day, local.hour) == (4, 5, 12):
            world.dose(who, 2, now - timedelta(minutes=45))
        world.plan(now)
        log += [(local.strftime("%m-%d %H:%M"), t) for t in world.send_due(now)]

    assert log == [
        ("03-01 10:00", "appt.booked"),
        ("03-02 18:00", "appt.reminder_eve"),
        ("03-03 08:00", "appt.reminder_morning"),
        ("03-03 10:00", "dose.confirmation"),
        ("03-30 18:00", "dose2.due_tomorrow"),
        ("03-31 08:00", "dose2.due_today"),
        ("04-01 12:00", "appt.booked"),
        ("04-04 18:00", "appt.reminder_eve"),
        ("04-05 08:00", "appt.reminder_morning"),
        ("04-05 12:00", "dose.confirmation_final"),
    ]
    bodies = {m.template: m.body for m in world.messages("sent")}
    assert "Your next dose is due on 31 Mar" in bodies["dose.confirmation"]
    assert bodies["dose2.due_tomorrow"] == ("Dear Rahima, your second dose is due tomorrow, 31 Mar, "
                                            "at Kalyani PHC. Please bring your ID.")
    assert bodies["dose.confirmation_final"] == ("Dear Rahima, you have had all doses of COVISHIELD. "
                                                 "You are fully vaccinated. Thank you.")
    assert world.messages("canceled") == [] and world.messages("pending") == []
