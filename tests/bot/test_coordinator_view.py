"""The coordinator's view on an uneven day (tikabot/rehearsal/uneven.py), on an injected clock:
/status worst first, alerts one can act on (buttons, acknowledgement, escalation, corrections),
/site with the number to call and who is still due."""
from __future__ import annotations

import re
from datetime import date, time

import pytest
from sqlalchemy import select

from tests.support.languages import assert_reads_as
from tests.support.worlds.bot import outbox
from tikabot.alerts.state import AckTimes
from tikabot.alerts.checks import check_alerts
from tikabot.core.clock import local_at
from tikabot.rehearsal import uneven
from tikabot.store.models import CoordinatorAlert, OutboundMessage, Site

DAY = date(2026, 3, 2)
TZ = "Asia/Kolkata"


def at(hh, mm=0):
    return local_at(DAY, time(hh, mm), TZ)


@pytest.fixture
def plan(bot_services):
    with bot_services.transaction() as s:
        return uneven.build(s, DAY, TZ)


def happen(services, plan, until):
    """What happened at the sites up to `until` (after what an earlier call wrote)."""
    since = getattr(plan, "happened", at(0, 0))
    with services.transaction() as s:
        uneven.happen_until(s, plan, since, until)
    plan.happened = until


def check(services, moment):
    with services.transaction() as s:
        check_alerts(s, moment, TZ, ack_times=AckTimes())


@pytest.fixture
def clock_at_noon(bot_clock):
    bot_clock.moment = at(12, 0)
    return bot_clock


@pytest.fixture
def view(start_bot, plan, clock_at_noon):
    return start_bot(clock_at_noon.now)


def alerts_to(services, recipient, template=None):
    return outbox(services, template, recipient)


def test_status_puts_the_unstarted_and_silent_sites_first_with_real_times(view, bot_services, plan):
    happen(bot_services, plan, at(12, 0))
    text = view.send("/status", user_id=uneven.EN_ID)["params"]["text"]
    lines = text.splitlines()
    assert lines[0].startswith("Status 2026-03-02 12:00. District: ")
    assert "6 sites: 5 open, 4 need help" in lines[0]
    codes = [re.search(r"U0\d", line).group(0) for line in lines[1:]]
    assert codes == ["U01", "U02", "U03", "U04", "U05", "U06"]
    assert lines[1] == "\U0001F534 U01 Haringhata PHC: 0/20 (0%), last: no report yet - NOT STARTED (first slot 09:00)"
    assert lines[2].startswith("\U0001F534 U02 Chakdaha RH: 6/20 (30%), last: 10:25 - SILENT 95 min")
    assert "U03 Santipur SGH: 7/20 (35%)" in lines[3] and "BEHIND plan by 8 doses (plan 15)" in lines[3]
    assert "U06 Madanpur PHC: 18/20 (90%)" in lines[6] and "\U0001F534" not in lines[6]
    assert all(len(line) < 120 for line in lines)


def test_a_bengali_coordinator_reads_the_ranked_status_in_bengali(view, bot_services, plan):
    happen(bot_services, plan, at(12, 0))
    text = view.send("/status", user_id=uneven.BN_ID)["params"]["text"]
    for noun in ("Haringhata PHC", "Chakdaha RH", "Santipur SGH", "Kalyani JNM", "Gayeshpur UPHC", "Madanpur PHC"):
        text = text.replace(noun, "")
    assert_reads_as(text, "bn")
    assert "৯৫ মিনিট কোনো রিপোর্ট নেই" in text


def test_an_alert_names_the_site_its_in_charge_a_phone_and_the_next_step_with_buttons(bot_services, plan):
    happen(bot_services, plan, at(10, 0))
    check(bot_services, at(10, 0))
    [alert] = alerts_to(bot_services, str(uneven.EN_ID), "alert.no_session")
    assert alert.body.splitlines()[0] == "No session opened yet at 5 sites where people are booked today:"
    assert "U01 Haringhata PHC: in-charge In-charge U01, call +919800071000" in alert.body
    assert "Next: call the in-charge." in alert.body
    assert alert.buttons[0] == [["/site U01", "al:site:U01"], ["Manual mode U01", "al:man:U01"]]
    assert alert.buttons[-1][0][0] == "Acknowledge" and alert.buttons[-1][0][1].startswith("al:ack:")
    [bengali] = alerts_to(bot_services, str(uneven.BN_ID), "alert.no_session")
    assert bengali.buttons[-1][0][0] == "স্বীকার করুন"
    assert_reads_as(re.sub(r"In-charge U0\d|\+91\d{10}|Haringhata PHC|Santipur SGH|Kalyani JNM|Gayeshpur UPHC|Madanpur PHC",
                           "", bengali.body), "bn")
    assert alerts_to(bot_services, "7103") == []  # the state coordinator hears only of what is escalated


def test_a_stale_not_opened_alert_is_corrected_and_the_site_still_shut_is_reminded(bot_services, plan):
    happen(bot_services, plan, at(10, 0))
    check(bot_services, at(10, 0))
    happen(bot_services, plan, at(10, 25))
    check(bot_services, at(10, 25))
    bodies = [m.body for m in updates(bot_services)]
    assert bodies[0].splitlines() == ["4 of the 5 sites have now opened; still not open:",
                                      "U01 Haringhata PHC: in-charge In-charge U01, call +919800071000"]
    check(bot_services, at(10, 40))  # nothing changed, not yet 30 minutes: quiet
    assert len(updates(bot_services)) == 1
    check(bot_services, at(10, 56))
    reminder = updates(bot_services)[-1].body
    assert reminder.startswith("Reminder: still no session at 1:") and "U01" in reminder


def test_an_unacknowledged_severe_side_effect_is_sent_again_and_escalated_to_the_state(bot_services, plan):
    happen(bot_services, plan, at(11, 0))
    check(bot_services, at(11, 1))
    first = [m for m in alerts_to(bot_services, "+919800070001", "alert.severe")]
    assert len(first) == 1 and first[0].priority == "otp"
    assert "U03 Santipur SGH: in-charge In-charge U03, call +919800071002" in first[0].body
    check(bot_services, at(11, 4))  # under five minutes: nothing more
    assert alerts_to(bot_services, "7103") == []
    check(bot_services, at(11, 6))
    state = alerts_to(bot_services, "7103") + alerts_to(bot_services, "+919800070003")
    assert sorted(m.channel for m in state) == ["sms", "telegram"]
    assert {m.priority for m in state} == {"otp"}
    assert "आपको भेजा गया: 6 मिनट में किसी ज़िला समन्वयक ने इसे स्वीकार नहीं किया।" in state[0].body
    again = alerts_to(bot_services, str(uneven.EN_ID), "alert.severe")[-1]
    assert again.body.startswith("REMINDER: nobody acknowledged this in 6 minutes")
    check(bot_services, at(11, 30))
    assert len(alerts_to(bot_services, "7103", "alert.severe")) == 1  # escalated once


def test_acknowledge_button_says_by_whom_and_stops_the_escalation(view, bot_services, plan, clock_at_noon):
    happen(bot_services, plan, at(10, 0))
    check(bot_services, at(10, 0))
    with bot_services.sessions() as s:
        alert = s.scalar(select(CoordinatorAlert).where(CoordinatorAlert.kind == "no_session"))
    clock_at_noon.moment = at(10, 7)
    done = view.press(f"al:ack:{alert.id}", user_id=uneven.EN_ID)
    assert done["method"] == "editMessageText" and done["params"]["text"].endswith("Acknowledged by Asha Sen at 10:07.")
    told = alerts_to(bot_services, str(uneven.BN_ID))[-1]
    assert told.body == "U01, U03, U04, U05, U06-এর সতর্কবার্তার দায়িত্ব নিয়েছেন Asha Sen।"
    again = view.press(f"al:ack:{alert.id}", user_id=uneven.BN_ID)
    assert "১০:০৭-এ Asha Sen আগেই স্বীকার করেছেন।" in again["params"]["text"]
    check(bot_services, at(10, 30))
    assert alerts_to(bot_services, "7103") == []


def test_site_and_manual_buttons_under_an_alert(view, bot_services, plan):
    happen(bot_services, plan, at(12, 0))
    site = view.press("al:site:U01", user_id=uneven.EN_ID)
    assert "Call: In-charge U01 +919800071000" in site["params"]["text"]
    ask = view.press("al:man:U01", user_id=uneven.EN_ID)
    assert ask["params"]["text"].startswith("Switch U01 to manual mode?")
    yes = ask["params"]["reply_markup"]["inline_keyboard"][0][0]
    assert "U01 is now in manual mode" in view.press(yes["callback_data"], user_id=uneven.EN_ID)["params"]["text"]
    with bot_services.sessions() as s:
        assert s.scalar(select(Site.manual_mode).where(Site.code == "U01")) is True


def test_site_remaining_lists_who_is_still_due_masked(view, bot_services, plan):
    happen(bot_services, plan, at(12, 0))
    text = view.send("/site U06 remaining", user_id=uneven.EN_ID)["params"]["text"]
    lines = text.splitlines()
    assert lines[0] == "U06 Madanpur PHC: 2 of 20 still due:"
    assert re.fullmatch(r"- Person U06-\d+, ref 9\d{11}, dose 1, .+, \+91\*+\d\d", lines[1]), lines[1]
    assert "+9197000" not in text


def updates(services):
    """Corrections and reminders of the "not opened" alert to the English coordinator."""
    return [m for m in alerts_to(services, str(uneven.EN_ID), "alert.no_session") if "-u" in m.idempotency_key]


def test_failed_says_why_in_peoples_words_and_who_by_site(view, bot_services, plan):
    happen(bot_services, plan, at(12, 0))
    text = view.send("/failed", user_id=uneven.EN_ID)["params"]["text"]
    lines = text.splitlines()
    assert lines[0] == "Failed messages, last 24 hours: 10"
    assert lines[1:6] == [
        "By reason:",
        "- the phone is switched off or out of reach: 4 (/retry all may reach them now)",
        "- not a mobile number (or no such number): 2 (sending again will not help: call or visit)",
        "- the person sent STOP: 2 (sending again will not help: call or visit)",
        "- our SMS provider account has a problem: 2 (tell the administrator; then /retry all)"]
    assert lines[7].startswith("U04 Kalyani JNM: 10: Person U04-0 +91********00 (reminder, switched off), ")
    assert lines[7].endswith(" and 5 more")
    assert "30003" not in text and "appt." not in text and "+9197000" not in text
    bengali = view.send("/failed", user_id=uneven.BN_ID)["params"]["text"]
    assert "ফোন বন্ধ বা নেটওয়ার্কের বাইরে: ৪টি" in bengali


def test_retry_sends_only_what_still_makes_sense_and_reports_back(view, bot_services, plan, monkeypatch):
    from tikabot.bot import delivery

    monkeypatch.setattr(delivery, "WATCH_EVERY_S", 0.05)
    happen(bot_services, plan, at(12, 0))
    reply = view.send("/retry all", user_id=uneven.EN_ID)["params"]["text"]
    # 09:00-11:00 reminders are over by noon; not a mobile and STOP will fail again; the account ones go
    assert reply == ("Queued again: 2. Not sent because too late now: 5. Skipped, will fail again (bad or "
                     "blocked number): 3. I will tell you what happened to them.")
    with bot_services.transaction() as s:
        queued = list(s.scalars(select(OutboundMessage).where(OutboundMessage.status == "pending")
                                .order_by(OutboundMessage.id)))
        assert [m.template for m in queued] == ["appt.reminder_morning"] * 2
        queued[0].status = "delivered"
        queued[1].status, queued[1].last_error_code = "failed", "30003"
    report = view.wait_replies(uneven.EN_ID, 2)[1]["params"]["text"].splitlines()
    assert report[0] == "Retried messages: 1 delivered, 1 failed, 0 not sent, 0 still on the way."
    assert re.fullmatch(r"- Person U04-\d+ \+91\*+\d\d: the phone is switched off or out of reach", report[1])


def test_a_broadcast_reports_its_delivery(view, bot_services, plan, monkeypatch):
    from tikabot.bot import delivery

    monkeypatch.setattr(delivery, "WATCH_EVERY_S", 0.05)
    preview = view.send("/broadcast U02 Please send a COUNT now.", user_id=uneven.EN_ID)
    yes = preview["params"]["reply_markup"]["inline_keyboard"][0][0]
    done = view.press(yes["callback_data"], user_id=uneven.EN_ID)
    assert done["params"]["text"] == "Sent to 1 staff. I will tell you what happened to them."
    with bot_services.transaction() as s:
        s.scalar(select(OutboundMessage).where(OutboundMessage.template == "broadcast")).status = "delivered"
    report = view.wait_replies(uneven.EN_ID, 3)[2]["params"]["text"]
    assert report == "Broadcast: 1 delivered, 0 failed, 0 not sent, 0 still on the way."


def test_chart_shows_each_site_against_plan_and_the_day_summary_after_end(view, bot_services, plan, clock_at_noon):
    happen(bot_services, plan, at(12, 0))
    reply = view.send("/chart", user_id=uneven.BN_ID)
    assert reply["method"] == "sendPhoto" and reply["files"]["photo"]["filename"] == "doses-2026-03-02.png"
    assert reply["params"]["caption"] == "ডোজ, ২ মার্চ: ৫৫টি"
    assert reply["files"]["photo"]["size"] > 20000
    from tikabot.store.models import VaccinationSession

    with bot_services.transaction() as s:
        for session in s.scalars(select(VaccinationSession)):
            session.closed_at = at(12, 30)
        s.add(VaccinationSession(site_id=plan.sites["U01"], date=DAY, vaccine="COVISHIELD", lot="L", opened_by="x",
                                 opened_at=at(12, 0), closed_at=at(12, 30)))
    clock_at_noon.moment = at(13, 0)
    summary = view.send("/chart", user_id=uneven.EN_ID)
    assert summary["files"]["photo"]["filename"] == "day-2026-03-02.png"
    assert summary["params"]["caption"] == "Day summary 2026-03-02: 55 doses"


def test_site_remaining_in_bengali_takes_the_bengali_word_too(view, bot_services, plan):
    happen(bot_services, plan, at(12, 0))
    text = view.send("/site U06 বাকি", user_id=uneven.BN_ID)["params"]["text"]
    assert text.splitlines()[0] == "U06 Madanpur PHC: ২০ জনের মধ্যে ২ জনের ডোজ এখনও বাকি:"


def test_a_silent_site_heard_from_again_is_not_escalated(bot_services, plan):
    happen(bot_services, plan, at(11, 25))
    check(bot_services, at(11, 25))  # U02 silent since 10:25
    [alert] = alerts_to(bot_services, str(uneven.EN_ID), "alert.site_silent")
    assert alert.body.startswith("1 site silent: no dose or message for 60 minutes (since 10:25):")
    from tikabot.store.models import Dose

    with bot_services.transaction() as s:
        s.add(Dose(beneficiary_id=plan.doses[-1][2] + 1, dose_number=1, vaccine="COVISHIELD", lot="4120Z025",
                   site_id=plan.sites["U02"], administered_at=at(11, 30), created_at=at(11, 30), source="sms"))
    check(bot_services, at(11, 45))
    assert alerts_to(bot_services, "7103", "alert.site_silent") == []
