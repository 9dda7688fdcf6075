"""Each coordinator sees and acts on the sites of their level only: a site's coordinator their site,
a district's its sites, a state's its state (or everything); the bot answers only in private chats.

The world: Nadia (KAL01, BAR02; the `district` fixture), Darjeeling (SIL03) in the same state,
Patna (PAT04) in another. A site coordinator of KAL01, Darjeeling's district coordinator, the
state coordinator of WB, a state coordinator over everything, and the fixture's coordinator, whose
scope is no longer set once there are several districts.
"""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.support.worlds.bot import COORDINATOR_ID, message_update
from tests.support.worlds.small_district import hashed
from tikabot.alerts.severe import alert_severe_aefi
from tikabot.alerts.checks import check_otp_alerts, check_site_alerts
from tikabot.store.models import (
    AdverseEvent, Appointment, Beneficiary, Dose, OutboundMessage, Site, Staff,
)

SITE_ID, DARJ_ID, WB_ID, ALL_ID = 701, 702, 703, 704
GROUP_ID, CHANNEL_ID = -100200300, -100900900
KAL_FAILED, SIL_FAILED = "+919830010002", "+919830020001"  # the phones of the failed reminders


@pytest.fixture
def scoped(bot_services, district):
    now = district["now"]
    with bot_services.transaction() as s:
        kal = s.scalar(select(Site).where(Site.code == "KAL01"))
        sil = Site(code="SIL03", name="Siliguri DH", district="Darjeeling", state="WB")
        pat = Site(code="PAT04", name="Patna PHC", district="Patna", state="Bihar")
        s.add_all([sil, pat])
        s.flush()
        s.add_all([
            Staff(phone="+919830000101", name="Kalyani Mobiliser", role="coordinator", level="site",
                  site_id=kal.id, telegram_user_id=SITE_ID),
            Staff(phone="+919830000102", name="Darjeeling Coordinator", role="coordinator", level="district",
                  scope="Darjeeling", telegram_user_id=DARJ_ID),
            Staff(phone="+919830000103", name="WB Coordinator", role="coordinator", level="state", scope="WB",
                  telegram_user_id=WB_ID),
            Staff(phone="+919830000104", name="Health Secretary", role="coordinator", level="state",
                  telegram_user_id=ALL_ID),
            Staff(phone="+919830000105", name="Sila Vaccinator", role="vaccinator", site_id=sil.id),
            Staff(phone="+919830000106", name="Pia Vaccinator", role="vaccinator", site_id=pat.id),
        ])
        sila = Beneficiary(ref="200000000001", name="Sila Person", phone=SIL_FAILED, site_id=sil.id)
        pia = Beneficiary(ref="300000000001", name="Pia Person", phone="+919830030001", site_id=pat.id)
        s.add_all([sila, pia])
        s.flush()
        s.add(Appointment(beneficiary_id=sila.id, site_id=sil.id, dose_number=1, date=district["today"],
                          slot="09:00-11:00", security_code_hash=hashed(sila.id, "1234")))
        s.add_all([Dose(beneficiary_id=person.id, dose_number=1, vaccine="COVISHIELD", lot="L9", site_id=person.site_id,
                        administered_at=now - timedelta(minutes=10), source="sms") for person in (sila, pia)])
        s.add(OutboundMessage(idempotency_key="k-failed-sil", channel="sms", recipient=SIL_FAILED,
                              template="appt.reminder_morning", body="Your vaccination is today",
                              status="failed", last_error_code="30003", beneficiary_id=sila.id))
    return district


def text_of(reply: dict) -> str:
    return reply["params"].get("text") or reply["params"].get("caption") or ""


ALL_SITES = ("KAL01", "BAR02", "SIL03", "PAT04")


@pytest.mark.parametrize("user, sees", [
    (SITE_ID, {"KAL01"}),
    (DARJ_ID, {"SIL03"}),
    (WB_ID, {"KAL01", "BAR02", "SIL03"}),
    (ALL_ID, set(ALL_SITES)),
], ids=["site", "district", "state", "state-everything"])
def test_status_lists_only_the_sites_of_the_coordinators_level(bot, scoped, user, sees):
    text = text_of(bot.send("/status", user_id=user))
    assert {code for code in ALL_SITES if code in text} == sees


def test_a_coordinator_with_no_scope_among_several_districts_sees_no_site_and_is_told_why(bot, scoped):
    text = text_of(bot.send("/status"))
    assert "No sites are assigned to you yet" in text
    assert not any(code in text for code in ALL_SITES)
    assert "No sites are assigned" in text_of(bot.send("/site KAL01"))
    assert "/status" in text_of(bot.send("/help"))  # help still answers


def test_a_site_outside_the_scope_is_refused_like_one_that_does_not_exist(bot, scoped):
    own = text_of(bot.send("/site KAL01 remaining", user_id=SITE_ID))
    assert "Person 2" in own and "100000000002" in own
    for asked in ("/site BAR02", "/site BAR02 remaining", "/site PAT04 remaining"):
        code = asked.split()[1]
        refused = text_of(bot.send(asked, user_id=SITE_ID))
        assert refused == text_of(bot.send(f"/site NOPE{code[-2:]}", user_id=SITE_ID)).replace(f"NOPE{code[-2:]}", code)
        assert "Person" not in refused and "+91" not in refused
    assert "KAL01 is not one of your sites" in text_of(bot.send("/site KAL01", user_id=DARJ_ID))


@pytest.mark.parametrize("user, count", [(SITE_ID, 2), (DARJ_ID, 1), (WB_ID, 3), (ALL_ID, 4)],
                         ids=["site", "district", "state", "state-everything"])
def test_export_holds_the_doses_of_the_scope_only(bot, scoped, user, count):
    day = scoped["today"].isoformat()
    reply = bot.send("/export", user_id=user)
    assert reply["method"] == "sendDocument"
    assert reply["params"]["caption"] == f"{count} dose records, {day}, all sites"


def test_export_of_a_site_outside_the_scope_is_refused(bot, scoped):
    reply = bot.send("/export KAL01", user_id=DARJ_ID)
    assert reply["method"] == "sendMessage" and "KAL01 is not one of your sites" in reply["params"]["text"]
    assert bot.send("/export SIL03", user_id=DARJ_ID)["method"] == "sendDocument"


def manual_mode(services, code):
    with services.sessions() as s:
        return s.scalar(select(Site.manual_mode).where(Site.code == code))


def test_manual_mode_only_for_a_site_in_the_scope(bot, bot_services, scoped):
    assert "KAL01 is not one of your sites" in text_of(bot.send("/manual KAL01 on", user_id=DARJ_ID))
    assert manual_mode(bot_services, "KAL01") is False
    assert "is now in manual mode" in text_of(bot.send("/manual KAL01 on", user_id=SITE_ID))
    assert manual_mode(bot_services, "KAL01") is True
    # the alert that followed went to those covering KAL01, not to Darjeeling or to nobody's scope
    with bot_services.sessions() as s:
        told = set(s.scalars(select(OutboundMessage.recipient).where(OutboundMessage.template == "alert.manual_mode")))
    assert str(DARJ_ID) not in told and str(COORDINATOR_ID) not in told and str(SITE_ID) in told


def test_alert_buttons_for_a_site_outside_the_scope_do_nothing(bot, bot_services, scoped):
    assert "KAL01 is not one of your sites" in text_of(bot.press("al:site:KAL01", user_id=DARJ_ID))
    assert "KAL01 is not one of your sites" in text_of(bot.press("al:man:KAL01", user_id=DARJ_ID))
    assert "KAL01 is not one of your sites" in text_of(bot.press("mm:yes:KAL01", user_id=DARJ_ID))
    assert manual_mode(bot_services, "KAL01") is False


def broadcast_recipients(services):
    with services.sessions() as s:
        return sorted(s.scalars(select(OutboundMessage.recipient).where(OutboundMessage.template == "broadcast")))


def test_broadcast_all_means_every_site_in_the_scope(bot, bot_services, scoped):
    preview = bot.send("/broadcast ALL Stock arrives at noon", user_id=SITE_ID)
    assert "2 staff" in text_of(preview)
    send = preview["params"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    bot.press(send, user_id=SITE_ID)
    assert broadcast_recipients(bot_services) == ["+919830000002", "+919830000003"]  # KAL01's staff only
    refused = bot.send("/broadcast KAL01 Sessions start at 9", user_id=DARJ_ID)
    assert "KAL01 is not one of your sites" in text_of(refused) and "reply_markup" not in refused["params"]


def failed_status(services, phone):
    with services.sessions() as s:
        return s.scalar(select(OutboundMessage.status).where(OutboundMessage.recipient == phone))


def test_retry_all_sends_again_only_the_scopes_messages(bot, bot_services, scoped):
    assert "Queued again: 1." in text_of(bot.send("/retry all", user_id=DARJ_ID))
    assert failed_status(bot_services, SIL_FAILED) == "pending"
    assert failed_status(bot_services, KAL_FAILED) == "failed"
    with bot_services.sessions() as s:
        kal_id = s.scalar(select(OutboundMessage.id).where(OutboundMessage.recipient == KAL_FAILED))
    assert f"There is no message {kal_id}" in text_of(bot.send(f"/retry {kal_id}", user_id=DARJ_ID))
    assert failed_status(bot_services, KAL_FAILED) == "failed"


def test_failed_and_pending_show_the_scopes_sites_only(bot, scoped):
    failed = text_of(bot.send("/failed", user_id=DARJ_ID))
    assert "Sila Person" in failed and "Person 2" not in failed and "KAL01" not in failed
    pending = text_of(bot.send("/pending", user_id=DARJ_ID))
    assert "SIL03" in pending and "KAL01" not in pending and "PAT04" not in pending
    assert "PAT04" in text_of(bot.send("/pending", user_id=ALL_ID))


def test_chart_counts_the_scopes_doses(bot, scoped):
    day = scoped["today"].isoformat()
    for user, count in ((DARJ_ID, 1), (SITE_ID, 2), (ALL_ID, 4)):
        reply = bot.send("/chart", user_id=user)
        assert reply["method"] == "sendPhoto" and reply["params"]["caption"] == f"Doses {day}: {count}"


def group_update(text: str, user_id: int = COORDINATOR_ID) -> dict:
    return message_update(user_id, text, chat={"id": GROUP_ID, "type": "group", "title": "Nadia drive"})


@pytest.mark.parametrize("command", ["/status", "/site KAL01 remaining", "/export", "/failed"])
def test_in_a_group_chat_commands_point_to_the_private_chat_and_show_nothing(bot, scoped, command):
    bot.sim.sim.inject_update(group_update("hello everyone"))  # chatter in the group: not the bot's business
    bot.sim.sim.inject_update(group_update(command, user_id=ALL_ID))
    [reply] = bot.wait_replies(GROUP_ID, 1)
    bot.send("/help", user_id=ALL_ID)  # handled after both group updates: no second reply came
    assert len(bot.replies(GROUP_ID)) == 1
    assert reply["method"] == "sendMessage"
    assert "works only in a private chat with the bot" in reply["params"]["text"]
    assert not any(code in reply["params"]["text"] for code in ALL_SITES)


def test_channel_posts_are_ignored(bot, scoped):
    post = {"message_id": 5, "date": int(time.time()), "text": "/status",
            "chat": {"id": CHANNEL_ID, "type": "channel", "title": "Drive news"},
            "entities": [{"type": "bot_command", "offset": 0, "length": 7}]}
    bot.sim.sim.inject_update({"channel_post": post})
    bot.send("/help")  # handled after the post
    assert bot.replies(CHANNEL_ID) == []


def outbox_to(services, template):
    with services.sessions() as s:
        return [(m.channel, m.recipient, m.body) for m in s.scalars(
            select(OutboundMessage).where(OutboundMessage.template == template).order_by(OutboundMessage.id))]


def severe_at(services, code, now):
    with services.transaction() as s:
        site = s.scalar(select(Site).where(Site.code == code))
        person = s.scalar(select(Beneficiary).where(Beneficiary.site_id == site.id).limit(1))
        event = AdverseEvent(beneficiary_id=person.id, site_id=site.id, severity="SEVERE", note="fainted",
                             reported_by="+919830000105", source="sms", created_at=now)
        s.add(event)
        s.flush()
        alert_severe_aefi(s, event)


def test_a_severe_side_effect_reaches_only_those_whose_scope_covers_the_site(bot_services, scoped):
    severe_at(bot_services, "SIL03", scoped["now"])
    told = {recipient for _, recipient, _ in outbox_to(bot_services, "alert.severe")}
    assert told == {str(DARJ_ID), "+919830000102"}  # Darjeeling's coordinator, by Telegram and SMS


def test_a_severe_side_effect_at_a_site_nobody_covers_still_reaches_someone(bot_services, scoped):
    """Patna has no district coordinator: the state level over it hears at once, and so does the
    coordinator whose scope is not set; WB's state coordinator and Darjeeling's do not."""
    severe_at(bot_services, "PAT04", scoped["now"])
    told = {recipient for _, recipient, _ in outbox_to(bot_services, "alert.severe")}
    assert told == {str(ALL_ID), "+919830000104", str(COORDINATOR_ID), "+919830000001"}


def test_a_not_opened_alert_names_to_each_coordinator_only_the_sites_of_their_scope(bot_services, scoped):
    with bot_services.transaction() as s:
        check_site_alerts(s, scoped["now"], bot_services.config.tz)  # noon: BAR02 and SIL03 not opened
    sent = outbox_to(bot_services, "alert.no_session")
    darjeeling = [body for channel, to, body in sent if to == str(DARJ_ID)]
    assert len(darjeeling) == 1 and "SIL03" in darjeeling[0] and "BAR02" not in darjeeling[0]
    assert "+919830000105" in darjeeling[0]  # SIL03's in-charge, to call
    wb = [body for channel, to, body in sent if to == str(WB_ID)]
    assert len(wb) == 1 and "BAR02" in wb[0] and "SIL03" not in wb[0]  # nobody below the state covers BAR02
    assert all(to not in (str(SITE_ID), "+919830000101") for _, to, _ in sent)  # KAL01 is open
    assert not any("SIL03" in body for _, to, body in sent if to != str(DARJ_ID) and to != "+919830000102")


def test_codes_lost_even_by_voice_are_told_to_each_sites_own_coordinators(bot_services, scoped):
    with bot_services.transaction() as s:
        for ref in ("100000000002", "200000000001"):
            person = s.scalar(select(Beneficiary).where(Beneficiary.ref == ref))
            s.add(OutboundMessage(idempotency_key=f"voice-{ref}", channel="voice", recipient=person.phone,
                                  template="otp.voice", body="x", status="failed", last_error_code="no-answer",
                                  updated_at=scoped["now"] - timedelta(minutes=5), beneficiary_id=person.id))
    with bot_services.transaction() as s:
        check_otp_alerts(s, scoped["now"])
    sent = outbox_to(bot_services, "alert.otp_undelivered")
    assert [body for _, to, body in sent if to == str(DARJ_ID)] == [
        "Code for REF 200000000001 at Siliguri DH could not be delivered."]
    assert [body for _, to, body in sent if to == str(SITE_ID)] == [
        "Code for REF 100000000002 at Kalyani PHC could not be delivered."]
