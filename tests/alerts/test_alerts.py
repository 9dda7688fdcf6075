"""Periodic coordinator alerts with a frozen clock: each problem alerts once, a bad hour is one message."""
from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from sqlalchemy import select

from tests.support.worlds.bot import outbox
from tests.support.worlds.small_district import hashed
from tikabot.alerts.severe import alert_severe_aefi
from tikabot.alerts.checks import check_alerts, check_otp_alerts, check_site_alerts
from tikabot.core.clock import local_at
from tikabot.store.models import (
    AdverseEvent, Appointment, Beneficiary, Dose, OutboundMessage, Site, Staff, VaccinationSession,
)

TZ = "Asia/Kolkata"
DAY = date(2026, 3, 2)


def at(hh, mm=0):
    return local_at(DAY, time(hh, mm), TZ)


@pytest.fixture
def world(services):
    with services.transaction() as s:
        sites = [Site(code=c, name=n) for c, n in (("KAL01", "Kalyani PHC"), ("BAR02", "Barasat SDH"),
                                                   ("RAN03", "Ranaghat RH"))]
        s.add_all(sites)
        s.flush()
        s.add_all([Staff(phone="+919830000001", name="Asha", role="coordinator", telegram_user_id=111),
                   Staff(phone="+919830000009", name="Dipu", role="coordinator", language="bn"),
                   Staff(phone="+919830000002", name="Rina", role="vaccinator", site_id=sites[0].id)])
        person = Beneficiary(ref="100000000001", name="Person", phone="+919830010001", site_id=sites[0].id)
        s.add(person)
        s.flush()
        for site in sites:
            s.add(Appointment(beneficiary_id=person.id, site_id=site.id, dose_number=1 + site.id, date=DAY,
                              slot="09:00-11:00", security_code_hash=hashed(person.id, "1234")))
        return {"sites": [x.id for x in sites], "person": person.id}


def alerts(services, template, recipient=None):
    """Alerts sent; with recipient, only those to one coordinator (111 reads English on Telegram)."""
    return outbox(services, template, recipient)


def run(services, check, now):
    with services.transaction() as s:
        return check(s, now, TZ)


def test_sites_with_no_session_by_ten_get_one_grouped_alert(services, world):
    with services.transaction() as s:
        s.add(VaccinationSession(site_id=world["sites"][0], date=DAY, vaccine="COVISHIELD", lot="L1",
                                 opened_by="+919830000002", opened_at=at(9, 50)))
    assert run(services, check_site_alerts, at(9, 59)) == []
    run(services, check_site_alerts, at(10, 5))
    run(services, check_site_alerts, at(10, 10))
    sent = alerts(services, "alert.no_session")
    assert [(m.channel, m.recipient) for m in sent] == [("telegram", "111"), ("sms", "+919830000009")]
    assert sent[0].body.splitlines()[:3] == ["No session opened yet at 2 sites where people are booked today:",
                                             "BAR02 Barasat SDH: no staff on record",
                                             "RAN03 Ranaghat RH: no staff on record"]


def test_a_site_in_manual_mode_is_not_chased_for_a_session(services, world):
    with services.transaction() as s:
        for site in s.scalars(select(Site)):
            site.manual_mode = site.code != "BAR02"
    run(services, check_site_alerts, at(10, 30))
    bodies = {m.body.splitlines()[1] for m in alerts(services, "alert.no_session")}
    assert bodies == {"BAR02 Barasat SDH: no staff on record", "BAR02 Barasat SDH: কোনো কর্মীর তথ্য নেই"}  # each coordinator


def test_a_site_silent_for_an_hour_alerts_once_per_silence(services, world):
    kal = world["sites"][0]
    with services.transaction() as s:
        for site_id in world["sites"]:
            s.add(VaccinationSession(site_id=site_id, date=DAY, vaccine="COVISHIELD", lot="L1",
                                     opened_by="+919830000002", opened_at=at(8, 0)))
        s.add(Dose(beneficiary_id=world["person"], dose_number=1, vaccine="COVISHIELD", lot="L1", site_id=kal,
                   administered_at=at(9, 0), created_at=at(9, 0), source="sms"))
    run(services, check_site_alerts, at(8, 59))
    assert alerts(services, "alert.site_silent") == []
    run(services, check_site_alerts, at(9, 5))  # BAR02 and RAN03 silent since 08:00; KAL01 reported at 09:00
    run(services, check_site_alerts, at(9, 30))
    assert len(alerts(services, "alert.site_silent")) == 2  # one message to each coordinator
    first = alerts(services, "alert.site_silent", "111")
    assert [m.body.splitlines()[:3] for m in first] == [[
        "2 sites silent: no dose or message for up to 65 minutes (since 08:00):",
        "BAR02 Barasat SDH: no staff on record", "RAN03 Ranaghat RH: no staff on record"]]
    run(services, check_site_alerts, at(10, 1))  # now KAL01 too, alone in a new message
    assert alerts(services, "alert.site_silent", "111")[-1].body.splitlines()[:2] == [
        "1 site silent: no dose or message for 61 minutes (since 09:00):",
        "KAL01 Kalyani PHC: in-charge Rina, call +919830000002"]
    with services.transaction() as s:
        s.scalar(select(VaccinationSession).where(VaccinationSession.site_id == kal)).closed_at = at(10, 30)
    run(services, check_site_alerts, at(12, 0))
    assert len(alerts(services, "alert.site_silent")) == 4


def failed(s, n, when, code="30003", template="appt.reminder_morning", channel="sms", beneficiary_id=None):
    for i in range(n):
        s.add(OutboundMessage(idempotency_key=f"f-{when.isoformat()}-{code}-{channel}-{i}", channel=channel,
                              recipient="+919830010001", template=template, body="x", status="failed",
                              last_error_code=code, updated_at=when, beneficiary_id=beneficiary_id))


def test_otps_lost_even_by_voice_are_grouped(services, world):
    now = at(11, 0)
    with services.transaction() as s:
        failed(s, 2, now - timedelta(minutes=5), code="no-answer", template="otp.voice", channel="voice",
               beneficiary_id=world["person"])
    run(services, lambda s, n, tz: check_otp_alerts(s, n), now)
    run(services, lambda s, n, tz: check_otp_alerts(s, n), now + timedelta(minutes=5))
    sent = alerts(services, "alert.otp_undelivered")
    assert len(sent) == 2
    assert [m.body for m in alerts(services, "alert.otp_undelivered", "111")] == [
        "Code for REF 100000000001 at Kalyani PHC could not be delivered."]
    assert {m.priority for m in sent} == {"otp"}


def test_a_severe_aefi_alerts_at_once_and_the_sweep_does_not_repeat_it(services, world):
    """Every coordinator by SMS (Asha on Telegram too), on the otp lane, naming who, where, when."""
    with services.transaction() as s:
        event = AdverseEvent(beneficiary_id=world["person"], site_id=world["sites"][0], severity="SEVERE",
                             note="fainted, not recovering", reported_by="+919830000002", created_at=at(11, 0))
        s.add(event)
        s.flush()
        alert_severe_aefi(s, event, medical_officers=("+919830077777",), tz=TZ)
    run(services, lambda s, n, tz: check_alerts(s, n, tz, medical_officers=("+919830077777",)), at(11, 4))
    sent = alerts(services, "alert.severe")
    assert sorted((m.channel, m.recipient) for m in sent) == [
        ("sms", "+919830000001"), ("sms", "+919830000009"), ("sms", "+919830077777"), ("telegram", "111")]
    assert {m.priority for m in sent} == {"otp"}
    assert [m.body.splitlines() for m in alerts(services, "alert.severe", "+919830077777")] == [[
        "SEVERE side effect at Kalyani PHC: Person, REF 100000000001, call +919830010001. 11:00. "
        "Reported by Rina +919830000002. Note: fainted, not recovering",
        "KAL01 Kalyani PHC: in-charge Rina, call +919830000002",
        "Next: call the beneficiary now (ambulance: 108) and tell the medical officer. "
        "Then call your district coordinator to say who is on it."]]
    assert alerts(services, "alert.severe", "111")[0].body.endswith("Press Acknowledge when someone is on it.")


def test_a_severe_aefi_without_a_telegram_bot_still_goes_by_sms(services, world):
    with services.transaction() as s:
        event = AdverseEvent(beneficiary_id=world["person"], site_id=world["sites"][0], severity="SEVERE",
                             note="", reported_by="+919830010001", created_at=at(11, 0))
        s.add(event)
        s.flush()
        sent = alert_severe_aefi(s, event, telegram=False, tz=TZ)
        assert {m.channel for m in sent} == {"sms"} and len(sent) == 2
    bodies = [m.body for m in alerts(services, "alert.severe", "+919830000009")]
    assert len(bodies) == 1 and "+919830010001" in bodies[0] and "উপভোক্তা নিজে (USSD)" in bodies[0]

def test_a_severe_sms_has_no_button_and_reads_in_its_language(services, world):
    """The SMS copy says what to do by phone (SMS has no Acknowledge button), also when it is sent
    again unacknowledged; the symptom chosen on USSD and the time are in the reader's words."""
    with services.transaction() as s:
        event = AdverseEvent(beneficiary_id=world["person"], site_id=world["sites"][0], severity="SEVERE",
                             note="breathing difficulty", reported_by="+919830010001", created_at=at(14, 35))
        s.add(event)
        s.flush()
        alert_severe_aefi(s, event, tz=TZ)
    first = alerts(services, "alert.severe", "+919830000009")[0].body
    assert "শ্বাসকষ্ট" in first and "breathing" not in first
    assert "দুপুর ২:৩৫" in first or "বিকেল ২:৩৫" in first, first
    assert "স্বীকার করুন" not in first and "অ্যাম্বুলেন্স: 108" in first
    run(services, lambda s, n, tz: check_alerts(s, n, tz), at(14, 50))
    sms = [m for m in outbox_rows(services, "alert.severe") if m.channel == "sms"]
    assert len(sms) > 2  # sent again, unacknowledged
    assert not any("Acknowledge" in m.body or "স্বীকার করুন" in m.body for m in sms)
    telegram = [m for m in outbox_rows(services, "alert.severe") if m.channel == "telegram"]
    assert telegram and all("Press Acknowledge" in m.body for m in telegram)


def outbox_rows(services, template):
    with services.transaction() as s:
        return s.scalars(select(OutboundMessage).where(OutboundMessage.template == template)).all()
