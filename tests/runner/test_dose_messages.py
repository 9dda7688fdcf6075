"""What a beneficiary receives around a dose: one confirmation, and no reminder after the fact."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from runner_world import NOW, RAHIMA_PHONE, VACCINATOR
from tikabot.queue.outbox import add_message
from tikabot.store.models import Appointment, Beneficiary, OutboundMessage


def _messages(world, phone):
    with world.sessions() as s:
        return s.scalars(select(OutboundMessage).where(OutboundMessage.recipient == phone)
                         .order_by(OutboundMessage.id)).all()


def _pending_reminder(world, ref="12345678"):
    with world.transaction() as s:
        person = s.scalar(select(Beneficiary).where(Beneficiary.ref == ref))
        appt = s.scalar(select(Appointment).where(Appointment.beneficiary_id == person.id))
        return add_message(s, key=f"appt-{appt.id}-morning-{appt.date}", recipient=person.phone,
                           template="appt.reminder_morning", language=person.language,
                           params={"slot": appt.slot, "site": "Kalyani PHC", "code": appt.security_code},
                           priority="bulk", not_before=NOW + timedelta(hours=2), appointment_id=appt.id,
                           beneficiary_id=person.id).id


def test_a_dose_undone_and_reported_again_is_confirmed_once(say, world):
    say(VACCINATOR, "DOSE 12345678 CS L1")
    say(VACCINATOR, "UNDO", minutes=2)
    say(VACCINATOR, "DOSE 12345678 CS L1", minutes=3)
    confirmations = [m for m in _messages(world, RAHIMA_PHONE) if m.template.startswith("dose.confirmation")]
    assert len(confirmations) == 1


def test_a_recorded_dose_withdraws_its_appointment_reminder(say, world):
    reminder_id = _pending_reminder(world)
    say(VACCINATOR, "DOSE 12345678 CS L1")
    with world.sessions() as s:
        assert s.get(OutboundMessage, reminder_id).status == "canceled"


def test_no_from_the_beneficiary_withdraws_the_reminder(say, world):
    reminder_id = _pending_reminder(world)
    say(RAHIMA_PHONE, "NO")
    with world.sessions() as s:
        assert s.get(OutboundMessage, reminder_id).status == "canceled"


def test_stop_withdraws_the_reminder(say, world):
    reminder_id = _pending_reminder(world)
    say(RAHIMA_PHONE, "STOP")
    with world.sessions() as s:
        assert s.get(OutboundMessage, reminder_id).status == "canceled"
        assert s.scalar(select(Beneficiary.opted_out).where(Beneficiary.phone == RAHIMA_PHONE)) is True
