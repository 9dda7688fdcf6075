"""Staff commands through the real runner: Redis state and locks, a real database, the outbox."""
from __future__ import annotations

from sqlalchemy import func, select

from tests.support.worlds.runner import (
    BN_STAFF, COORDINATOR, HI_STAFF, NO_SITE_STAFF, NOW, RAHIMA_PHONE, VACCINATOR, transcript,
)
from tikabot.flows import effects as fx
from tikabot.runner.apply import Context, record_dose
from tikabot.store.models import (
    AdverseEvent, Appointment, Beneficiary, CoordinatorAlert, Dose, InboundMessage, OutboundMessage, Staff, VaccinationSession,
)


def test_day_at_a_site(say, world):
    transcript(say, VACCINATOR, [
        ("START CS 4120Z025", "Session open: COVISHIELD lot 4120Z025. 1 person due today. Send DOSE <REF> for each dose."),
        ("DOSE 12345678", "Recorded: 12345678 (Rahima), dose 1, COVISHIELD lot 4120Z025. Today: 1."),
        ("DOSE 34567890", "Recorded: 34567890 (Lata), dose 2, COVISHIELD lot 4120Z025. Today: 2."),
        ("COUNT", "Kalyani PHC today: dose 1: 1, dose 2: 1, total 2. Due 1, remaining 0."),
        ("END", "Session closed at Kalyani PHC. Dose 1: 1, dose 2: 1, total 2. Thank you."),
    ])
    with world.transaction() as s:
        doses = s.scalars(select(Dose).where(Dose.source == "sms")).all()
        assert {(d.dose_number, d.vaccine, d.lot, d.vaccinator_phone) for d in doses} == {
            (1, "COVISHIELD", "4120Z025", VACCINATOR), (2, "COVISHIELD", "4120Z025", VACCINATOR)}
        appt = s.scalar(select(Appointment).join(Beneficiary).where(Beneficiary.ref == "12345678"))
        assert appt.status == "done"
        assert s.scalar(select(VaccinationSession)).closed_at is not None
        sent = {m.template: m for m in s.scalars(select(OutboundMessage))}
    assert sent["dose.confirmation"].recipient == RAHIMA_PHONE
    assert "১০ জুলাই" in sent["dose.confirmation"].body and sent["dose.confirmation"].language == "bn"
    final = sent["dose.confirmation_final"]
    assert final.language == "hi" and "Lata" in final.body and "COVISHIELD" in final.body
    assert sent["alert.session_closed"].recipient == COORDINATOR


def test_duplicate_dose_and_replayed_message(say, world):
    first = say(VACCINATOR, "DOSE 12345678 1 CS L9", sid="SMaaa")
    assert say(VACCINATOR, "DOSE 12345678 1 CS L9", sid="SMaaa") == first  # Twilio retry: same reply
    assert say(VACCINATOR, "DOSE 12345678 1 CS L9") == "Already recorded: 12345678 dose 1. Nothing changed."
    with world.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Dose).where(Dose.source == "sms")) == 1
        assert s.scalar(select(func.count()).where(OutboundMessage.priority != "reply")) == 1  # one confirmation
        replies = s.scalars(select(OutboundMessage.body).where(OutboundMessage.priority == "reply")
                            .order_by(OutboundMessage.id)).all()
        assert replies == [first, "Already recorded: 12345678 dose 1. Nothing changed."]  # the retry sent nothing
        assert s.scalar(select(func.count()).select_from(InboundMessage)) == 2


def test_race_on_the_same_dose_replies_already_recorded(world):
    """Two messages checked the facts before either wrote: the database's uniqueness decides."""
    effect = fx.RecordDose(beneficiary_id=1, ref="12345678", dose_number=1, vaccine="COVISHIELD", lot="L1",
                           site_id=1)
    ctx = Context(actor=VACCINATOR, source="ussd", key="k1", now=NOW, tz="Asia/Kolkata", otp_secret="x")
    with world.transaction() as s:
        assert record_dose(s, effect, ctx)[1] is True
    with world.transaction() as s:
        assert record_dose(s, effect, ctx)[1] is False


def test_rejections(say):
    transcript(say, VACCINATOR, [
        ("DOSE 99999999", "REF 99999999 not found. Check the number and send again."),
        ("DOSE 45678901 2 CX L1", "Not recorded: dose 2 for 45678901 is due from 30 Jun, not before."),
        ("DOSE 45678901 2 CS L1", "Not recorded: 45678901 had COVAXIN as dose 1, so dose 2 must be COVAXIN. "
                                  "Send DOSE 45678901 2 COVAXIN <LOT>."),
        ("DOSE 12345678 1 SPUTNIK L1", "Vaccine SPUTNIK is not known. Use one of: COVISHIELD, COVAXIN."),
        ("DOSE 123", "REF 123 is not valid. A REF has 6-14 digits."),
        ("DOSE 12345678 5", "Not recorded: dose number 5 is not valid. Send DOSE <REF> 1 or DOSE <REF> 2."),
        ("hello", "Command not known. Send HELP for the list."),
    ])
    transcript(say, NO_SITE_STAFF, [("START CS L1", "Your phone is not linked to a site. Please ask your coordinator.")])


def test_guided_dose_and_timeout(say, world):
    assert say(VACCINATOR, "DOSE") == "Send the beneficiary's REF (6-14 digits)."
    assert say(VACCINATOR, "১২৩৪৫৬৭৮") == "Which vaccine? Reply with its name, for example COVISHIELD or COVAXIN."
    assert say(VACCINATOR, "covaxin") == "Lot number? Reply with the lot printed on the vial."
    assert say(VACCINATOR, "b77") == "Recorded: 12345678 (Rahima), dose 1, COVAXIN lot B77. Today: 1."
    assert say(VACCINATOR, "DOSE") == "Send the beneficiary's REF (6-14 digits)."
    assert say(VACCINATOR, "23456789", minutes=11) == "No reply in time, so nothing was recorded. Please start again."
    assert say(VACCINATOR, "23456789", minutes=12) == "Command not known. Send HELP for the list."
    with world.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Dose).where(Dose.source == "sms")) == 1


def test_undo_inside_and_outside_the_window_and_record_again(say, world):
    say(VACCINATOR, "DOSE 12345678 CS L1")
    assert say(VACCINATOR, "UNDO", minutes=14) == "Removed from the record: 12345678 dose 1."
    assert say(VACCINATOR, "UNDO", minutes=14) == (
        "You already undid 12345678 dose 1. UNDO does not go further back: to undo another dose, send UNDO <REF>.")
    assert say(VACCINATOR, "DOSE 12345678 CX L2", minutes=15) == (
        "Recorded: 12345678 (Rahima), dose 1, COVAXIN lot L2. Today: 1.")
    assert say(VACCINATOR, "UNDO", minutes=31) == (
        "Cannot undo: only doses from the last 15 minutes can be undone. Please call your coordinator.")
    with world.transaction() as s:
        rows = s.scalars(select(Dose).where(Dose.source == "sms")).all()
    assert [(r.vaccine, r.voided) for r in rows] == [("COVAXIN", False)]  # the voided row was re-used


def test_bengali_staff_with_bengali_digits_and_hindi_staff_with_hindi_keywords(say):
    reply = say(BN_STAFF, "ডোজ ১২৩৪৫৬৭৮ ১ কোভিশিল্ড L1")
    assert reply.startswith("নথিভুক্ত: 12345678 (Rahima), ডোজ ১, COVISHIELD লট L1।")  # Bengali digits, codes in ASCII
    count = say(HI_STAFF, "गिनती")
    assert "Kalyani PHC" in count and any("\u0900" <= ch <= "\u097f" for ch in count)


def test_lang_changes_later_replies(say, world):
    assert say(VACCINATOR, "LANG BN") == "ভাষা বাংলা করা হয়েছে।"
    assert any("\u0980" <= ch <= "\u09ff" for ch in say(VACCINATOR, "COUNT"))
    with world.transaction() as s:
        assert s.scalar(select(Staff.language).where(Staff.phone == VACCINATOR)) == "bn"


def test_severe_aefi_alerts_coordinators(say, world):
    assert say(VACCINATOR, "AEFI 12345678 SEVERE fainted, fell") == (
        "SEVERE side effect recorded for 12345678. Alert going by SMS to 1 people: coordinators and medical "
        "officers. Keep the person under watch; if needed, send to hospital or call 108.")
    assert say(VACCINATOR, "AEFI 12345678 minor") == "Side effect recorded for 12345678: minor."
    with world.transaction() as s:
        events = s.scalars(select(AdverseEvent).order_by(AdverseEvent.id)).all()
        alerts = s.scalars(select(OutboundMessage).where(OutboundMessage.template == "alert.severe")).all()
    assert [(e.severity, e.note) for e in events] == [("SEVERE", "fainted, fell"), ("MINOR", "")]
    assert [(a.recipient, a.channel, a.priority, a.body.splitlines()[0]) for a in alerts] == [
        (COORDINATOR, "sms", "otp", "SEVERE side effect at Kalyani PHC: Rahima Khatun, REF 12345678, call "
                                    "+919830011111. 10:30. Reported by Mita Roy +919830000001. Note: fainted, fell")]
    assert alerts[0].body.splitlines()[1:] == [  # the site's code, whom to call there, what to do next
        "KAL Kalyani PHC: in-charge Mita Roy, call +919830000001",
        "Next: call the beneficiary now (ambulance: 108) and tell the medical officer. "
        "Then call your district coordinator to say who is on it."]  # an SMS has no button to press


def test_repeated_severe_reports_of_one_person_raise_one_alert_counting_the_rest(say, world):
    alerted = ("SEVERE side effect recorded for 12345678. Alert going by SMS to 1 people: coordinators and medical "
               "officers. Keep the person under watch; if needed, send to hospital or call 108.")
    for n in range(15):  # fifteen in a few seconds from one phone
        assert say(VACCINATOR, f"AEFI 12345678 SEVERE fainted {n}", minutes=n * 0.05) == alerted
    assert say(VACCINATOR, "AEFI 12345678 SEVERE fainted again", minutes=45) == alerted  # after the window
    with world.transaction() as s:
        events = s.scalar(select(func.count()).select_from(AdverseEvent).where(AdverseEvent.severity == "SEVERE"))
        alerts = s.scalars(select(OutboundMessage).where(OutboundMessage.template == "alert.severe")
                           .order_by(OutboundMessage.id)).all()
        first = s.scalars(select(CoordinatorAlert).where(CoordinatorAlert.kind == "severe")
                          .order_by(CoordinatorAlert.id)).all()
    assert events == 16  # every report is on record
    assert [(a.recipient, a.body.splitlines()[0].split("Note: ")[1]) for a in alerts] == [
        (COORDINATOR, "fainted 0"), (COORDINATOR, "fainted again")]  # the first at once, then after the window
    assert [a.detail.get("repeats", 0) for a in first] == [14, 0]


def test_inactive_staff_get_the_public_replies(say):
    assert say("+919830000008", "DOSE 12345678").startswith("You have no upcoming appointment.")


def test_a_lot_longer_than_the_register_holds_is_refused_with_a_reply(say, world):
    """The lot columns hold 40 characters (PostgreSQL enforces it): a longer lot is a clear reply,
    never a failed request with the report lost."""
    too_long = "L" * 41
    for text in (f"DOSE 12345678 1 CS {too_long}", f"START CS {too_long}"):
        assert say(VACCINATOR, text) == ("Lot number too long: at most 40 characters. "
                                         "Send the lot printed on the vial."), text
    assert say(VACCINATOR, "DOSE 12345678 1 CS") == "Lot number? Reply with the lot printed on the vial."
    assert say(VACCINATOR, too_long).startswith("Lot number too long")
    assert say(VACCINATOR, "L" * 40).startswith("Recorded: 12345678 (Rahima), dose 1, COVISHIELD lot " + "L" * 40)
