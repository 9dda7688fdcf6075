"""What a beneficiary receives around a dose: one confirmation, and no reminder after the fact."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.support.worlds.runner import NOW, RAHIMA_PHONE, VACCINATOR
from tikabot.outbox.messages import add_message
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
                           params={"slot": appt.slot, "site": "Kalyani PHC"},
                           priority="bulk", not_before=NOW + timedelta(hours=2), appointment_id=appt.id,
                           beneficiary_id=person.id).id


def test_a_dose_undone_and_reported_again_is_confirmed_once(say, world):
    say(VACCINATOR, "DOSE 12345678 CS L1")
    say(VACCINATOR, "UNDO", minutes=2)
    say(VACCINATOR, "DOSE 12345678 CS L1", minutes=3)
    sent = _messages(world, RAHIMA_PHONE)
    confirmations = [m for m in sent if m.template.startswith("dose.confirmation") and m.status != "canceled"]
    assert len(confirmations) == 1  # the first had not left yet: withdrawn, and nothing to correct
    assert "dose.voided" not in {m.template for m in sent}


def _delivered(world, phone):
    with world.transaction() as s:
        for m in s.scalars(select(OutboundMessage).where(OutboundMessage.recipient == phone)):
            m.status, m.attempts, m.provider_id = "delivered", 1, f"SM{m.id:032d}"


def test_a_dose_undone_after_its_confirmation_went_gets_a_kind_correction_then_a_corrected_confirmation(say, world):
    say(VACCINATOR, "DOSE 12345678 CS L1")
    _delivered(world, RAHIMA_PHONE)
    say(VACCINATOR, "UNDO", minutes=2)
    [correction] = [m for m in _messages(world, RAHIMA_PHONE) if m.template == "dose.voided"]
    assert correction.language == "bn" and correction.body.startswith("প্রিয় Rahima, একটি সংশোধন")
    _delivered(world, RAHIMA_PHONE)
    say(VACCINATOR, "DOSE 12345678 CS L1", minutes=3)
    again = _messages(world, RAHIMA_PHONE)[-1]
    assert again.template == "dose.confirmation" and again.body.startswith("সংশোধিত: প্রিয় Rahima")
    assert len({m.body for m in _messages(world, RAHIMA_PHONE)}) == 3  # no text reaches her twice


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


def test_the_confirmation_is_handed_to_the_queue_once_even_when_the_report_is_replayed(say, world):
    """The hand-off rides on the runner's last Redis call: the new outbox id is on the ready list,
    and a replayed report (the same MessageSid) neither records nor queues anything again."""
    from tikabot.outbox.transport import READY

    waiting = lambda: [int(v) for v in world.redis.lrange(READY["default"], 0, -1)]  # noqa: E731
    assert say(VACCINATOR, "DOSE 12345678 CS L1", sid="SM-dose-1").startswith("Recorded:")
    [confirmation] = [m.id for m in _messages(world, RAHIMA_PHONE) if m.template.startswith("dose.confirmation")]
    assert waiting() == [confirmation]
    assert say(VACCINATOR, "DOSE 12345678 CS L1", sid="SM-dose-1").startswith("Recorded:")
    assert waiting() == [confirmation]
    assert len(_messages(world, RAHIMA_PHONE)) == 1
