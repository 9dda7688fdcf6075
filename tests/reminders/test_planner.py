"""The planner against a real database: what lands in the outbox, when, and only once."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from sqlalchemy import func, select

from tests.support.worlds.reminders import IST, ist
from tikabot.outbox.sealing import of_session, readable
from tikabot.reminders.cancel import cancel_pending
from tikabot.store.models import Appointment, AuditLog, Beneficiary, OutboundMessage


DAY = date(2021, 3, 10)  # the appointment
BEFORE = DAY - timedelta(days=3)


def test_evening_and_morning_reminders_are_stored_in_utc_for_local_times(world, services):
    who = world.person()
    appt = world.book(who, DAY)
    world.plan(ist(DAY - timedelta(days=1), 9))  # 09:00 the day before: eve and morning are within a day
    with services.sessions() as s:
        rows = {m.template: m for m in s.scalars(select(OutboundMessage))}
    eve, morning = rows["appt.reminder_eve"], rows["appt.reminder_morning"]
    assert eve.not_before == datetime(2021, 3, 9, 12, 30, tzinfo=timezone.utc)      # 18:00 IST
    assert morning.not_before == datetime(2021, 3, 10, 2, 30, tzinfo=timezone.utc)  # 08:00 IST (quiet until 8)
    assert morning.expires_at == datetime(2021, 3, 10, 5, 30, tzinfo=timezone.utc)  # 11:00 IST, end of slot
    assert eve.idempotency_key == f"appt-{appt}-eve-2021-03-10"
    assert (eve.priority, eve.appointment_id, eve.beneficiary_id) == ("bulk", appt, who)
    assert eve.body == ("Dear Rahima, your vaccination is tomorrow, 10 Mar, 9-11 am at Kalyani PHC. "
                        "Please bring your ID.")  # the security code went once, in the booking notice
    assert morning.body == "Your vaccination is today, 9-11 am at Kalyani PHC. Please bring your ID."
    with services.sessions() as s:
        seal = of_session(s)
    assert morning.sealed_body is None and eve.sealed_body is None
    assert "Security code 4821." in readable(rows["appt.booked"].body, rows["appt.booked"].sealed_body, seal)


def test_running_the_planner_twice_or_again_later_writes_nothing_twice(world):
    who = world.person()
    world.book(who, DAY)
    first = world.plan(ist(BEFORE, 10))
    assert first == {"booked": 1}
    assert world.plan(ist(BEFORE, 10)) == {}
    for hour in (9, 12, 18, 23):
        world.plan(ist(DAY - timedelta(days=1), hour))
    world.plan(ist(DAY, 7))
    keys = [m.idempotency_key for m in world.messages()]
    assert len(keys) == len(set(keys)) == 3
    assert [m.template for m in world.messages()] == ["appt.booked", "appt.reminder_eve", "appt.reminder_morning"]


def test_reminders_are_in_the_beneficiarys_language(world):
    who = world.person(name="মৌমিতা রায়", language="bn")
    world.book(who, DAY)
    world.plan(ist(DAY - timedelta(days=1), 10))
    eve = next(m for m in world.messages() if m.template == "appt.reminder_eve")
    assert eve.language == "bn" and eve.encoding == "UCS-2"
    assert eve.body.startswith("প্রিয় মৌমিতা, আগামীকাল ১০ মার্চ, সকাল ৯টা–১১টা আপনার টিকা")


def test_first_planned_after_the_slot_ended_nothing_goes(world):
    who = world.person()
    world.book(who, DAY)
    assert world.plan(ist(DAY, 11, 0)) == {}
    assert world.messages() == []


def test_date_change_withdraws_the_old_reminders_and_plans_the_new_date(world):
    who = world.person()
    appt = world.book(who, DAY)
    world.plan(ist(DAY - timedelta(days=1), 9))
    new_day = DAY + timedelta(days=5)
    world.set(Appointment, appt, date=new_day)
    counts = world.plan(ist(DAY - timedelta(days=1), 9, 5))
    assert counts == {"booked": 1, "cancelled": 3}
    cancelled = {m.template for m in world.messages("canceled")}
    assert cancelled == {"appt.booked", "appt.reminder_eve", "appt.reminder_morning"}
    notice = world.messages("pending")[-1]
    assert notice.idempotency_key == f"appt-{appt}-booked-{new_day.isoformat()}"
    assert "15 Mar" in notice.body
    world.plan(ist(new_day - timedelta(days=1), 9))
    assert sorted(m.idempotency_key for m in world.messages("pending")) == sorted(
        f"appt-{appt}-{k}-2021-03-15" for k in ("booked", "eve", "morning"))


def test_stop_withdraws_reminders_and_start_brings_them_back(world, services):
    who = world.person()
    world.book(who, DAY)
    world.plan(ist(DAY - timedelta(days=1), 9))
    assert world.send_due(ist(DAY - timedelta(days=1), 9)) == ["appt.booked"]
    with services.transaction() as s:  # what the inbound STOP handler does
        s.get(Beneficiary, who).opted_out = True
        assert cancel_pending(s, beneficiary_id=who, reason="STOP") == 2
    assert world.plan(ist(DAY - timedelta(days=1), 10)) == {}
    assert world.going() == []
    with services.sessions() as s:
        audit = s.scalars(select(AuditLog).where(AuditLog.action == "reminders.cancelled")).one()
        assert audit.detail["reason"] == "STOP" and len(audit.detail["messages"]) == 2
    world.set(Beneficiary, who, opted_out=False)  # START
    assert world.plan(ist(DAY - timedelta(days=1), 19)) == {"revived": 2}
    # 19:00: the evening reminder goes late rather than never; the morning one at 08:00
    assert world.going() == [("at once", "appt.reminder_eve"), ("03-10 08:00", "appt.reminder_morning")]
    assert len(world.messages()) == 3


def test_stop_before_booking_means_nothing_on_the_bulk_queue(world):
    who = world.person()
    world.book(who, DAY)
    world.set(Beneficiary, who, opted_out=True)
    for hour in (9, 17, 23):
        world.plan(ist(DAY - timedelta(days=1), hour))
    world.plan(ist(DAY + timedelta(days=1), 10))
    assert world.messages() == []


def test_stop_late_in_the_evening_then_start_after_quiet_hours_began(world):
    who = world.person()
    world.book(who, DAY)
    world.plan(ist(DAY - timedelta(days=1), 9))
    world.set(Beneficiary, who, opted_out=True)
    world.plan(ist(DAY - timedelta(days=1), 17))
    world.set(Beneficiary, who, opted_out=False)
    assert world.plan(ist(DAY - timedelta(days=1), 22)) == {"revived": 2}  # notice and morning; not the eve
    assert world.going() == [("03-10 08:00", "appt.booked"), ("03-10 08:00", "appt.reminder_morning")]


def test_cancelled_appointment_withdraws_everything_pending(world, services):
    who = world.person()
    appt = world.book(who, DAY)
    world.plan(ist(DAY - timedelta(days=1), 9))
    with services.transaction() as s:  # what the inbound NO handler does
        s.get(Appointment, appt).status = "cancelled"
        assert cancel_pending(s, appointment_id=appt, reason="NO") == 3
    assert world.plan(ist(DAY, 7)) == {}
    world.plan(ist(DAY + timedelta(days=1), 10))
    assert world.messages("pending") == []


def test_planner_withdraws_on_its_own_when_nobody_called_cancel(world):
    who = world.person()
    appt = world.book(who, DAY)
    world.plan(ist(DAY - timedelta(days=1), 9))
    world.set(Appointment, appt, status="cancelled")
    assert world.plan(ist(DAY - timedelta(days=1), 9, 5)) == {"cancelled": 3}


def test_a_dose_recorded_the_day_before_cancels_the_day_of_reminder(world):
    who = world.person()
    world.book(who, DAY)
    world.plan(ist(DAY - timedelta(days=1), 17))
    assert world.send_due(ist(DAY - timedelta(days=1), 17)) == ["appt.booked"]
    world.dose(who, 1, ist(DAY - timedelta(days=1), 17, 30))  # walked in a day early
    sent = []
    for moment in (ist(DAY - timedelta(days=1), 18), ist(DAY, 8), ist(DAY + timedelta(days=1), 10)):
        world.plan(moment)
        sent += world.send_due(moment)
    cancelled = sorted(m.template for m in world.messages("canceled"))
    assert cancelled == ["appt.reminder_eve", "appt.reminder_morning"]
    assert sent == ["dose.confirmation"]
    confirmation = world.messages("sent")[-1]
    assert confirmation.body == ("Dear Rahima, you got your first dose of COVISHIELD. "
                                 "Your next dose is due on 6 Apr. Thank you.")


def test_missed_appointment_gets_one_rebooking_message_the_next_morning(world, services):
    who = world.person()
    appt = world.book(who, DAY)
    world.plan(ist(DAY, 23))
    assert not [m for m in world.messages() if m.template == "appt.missed"]
    assert world.plan(ist(DAY + timedelta(days=1), 0, 10)) == {"missed_marked": 1, "missed": 1}
    world.plan(ist(DAY + timedelta(days=1), 10, 10))
    missed = [m for m in world.messages() if m.template == "appt.missed"]
    assert len(missed) == 1
    assert missed[0].not_before.astimezone(IST).strftime("%d %H:%M") == "11 10:00"
    assert missed[0].body == ("Dear Rahima, your vaccination on 10 Mar did not take place. "
                              "You can still get it: ask your health worker for a new date.")
    with services.sessions() as s:
        assert s.get(Appointment, appt).status == "missed"


def test_many_people_one_run(world, services):
    people = [world.person(ref=f"07000001{i:02d}", phone=f"+9198300123{i:02d}") for i in range(30)]
    for who in people:
        world.book(who, DAY)
    counts = world.plan(ist(DAY - timedelta(days=1), 9))
    assert counts == {"booked": 30, "eve": 30, "morning": 30}
    with services.sessions() as s:
        assert s.scalar(select(func.count(func.distinct(OutboundMessage.recipient)))) == 30


def test_withdrawing_by_appointment_includes_the_missed_message(world, services):
    who = world.person()
    appt = world.book(who, DAY)
    world.plan(ist(DAY + timedelta(days=1), 0, 5))
    [missed] = world.messages("pending")
    assert missed.template == "appt.missed" and missed.appointment_id is None
    with services.transaction() as s:  # a paper record of the dose arrives next morning
        s.get(Appointment, appt).status = "done"
        assert cancel_pending(s, appointment_id=appt, reason="dose 1 on paper") == 1


def test_a_dose_reported_before_the_missed_message_goes_withdraws_it_at_once(world, services):
    """The person missed yesterday and walks in at 09:00, before the 10:00 rebooking message:
    the report itself withdraws it (with an audit entry), not the planner a minute later."""
    who = world.person()
    world.book(who, DAY)
    world.plan(ist(DAY + timedelta(days=1), 0, 5))
    [missed] = world.messages("pending")
    assert missed.template == "appt.missed"
    world.dose(who, 1, ist(DAY + timedelta(days=1), 9))
    assert [m.template for m in world.messages("canceled")] == ["appt.missed"]
    with services.sessions() as s:
        entry = s.scalars(select(AuditLog).where(AuditLog.action == "reminders.cancelled")).all()[-1]
    assert entry.detail == {"reason": "dose 1 recorded", "messages": [missed.id]}


def test_dose_2_reported_early_withdraws_the_dose_2_reminders_at_once(world):
    who = world.person()
    world.dose(who, 1, ist(date(2021, 3, 3), 10))  # dose 2 due from 31 Mar
    world.plan(ist(date(2021, 3, 30), 9))  # plans "due tomorrow" (18:00) and "due today" (31 Mar)
    due = sorted(m.template for m in world.messages("pending") if m.template.startswith("dose2."))
    assert due == ["dose2.due_today", "dose2.due_tomorrow"]
    world.dose(who, 2, ist(date(2021, 3, 30), 11))  # given a day early elsewhere, reported now
    assert sorted(m.template for m in world.messages("canceled")) == ["dose2.due_today", "dose2.due_tomorrow"]
