"""The coordinator bot end to end: updates in through the simulator's Bot API, replies read back from it."""
from __future__ import annotations

from sqlalchemy import select

from tests.support.worlds.bot import COORDINATOR_ID, STRANGER_ID, message_update
from tikabot.store.models import AuditLog, OutboundMessage, Site, Staff



def test_a_coordinator_gets_the_status_of_every_site(bot):
    reply = bot.send("/status")
    text = reply["params"]["text"]
    lines = text.splitlines()
    assert "District: 2 of 5 due (40%)" in lines[0] and "2 sites: 1 open" in lines[0]
    assert lines[1] == "\U0001F534 BAR02 Barasat SDH: 0/1 (0%), last: no report yet - NOT STARTED (first slot 09:00)"
    assert lines[2].startswith("\U0001F534 KAL01 Kalyani PHC: 2/4 (50%), last: ")


def test_a_stranger_is_refused_once_and_every_attempt_is_audited(bot, bot_services):
    first = bot.send("/status", user_id=STRANGER_ID)
    assert "only for district and state coordinators" in first["params"]["text"]
    bot.sim.sim.inject_update(message_update(STRANGER_ID, "/export"))
    bot.send("/help")  # the coordinator's reply arrives after the stranger's second update was handled
    assert len(bot.replies(STRANGER_ID)) == 1
    with bot_services.sessions() as s:
        refused = s.scalars(select(AuditLog).where(AuditLog.action == "bot.refused")).all()
    assert [r.actor for r in refused] == [f"telegram:{STRANGER_ID}"] * 2
    assert refused[1].detail["text"] == "/export"


def test_start_tells_a_stranger_their_telegram_id_every_time_they_ask(bot):
    first = bot.send("/status", user_id=STRANGER_ID)["params"]["text"]
    assert f"Your Telegram user id is {STRANGER_ID}" in first and "district administrator" in first
    for asked in (1, 2):  # refused before, yet /start still answers: it is how a newcomer finds the id
        bot.sim.sim.inject_update(message_update(STRANGER_ID, "/start"))
        replies = bot.wait_replies(STRANGER_ID, 1 + asked)
        assert f"Your Telegram user id is {STRANGER_ID}" in replies[-1]["params"]["text"]
    assert "/status" in bot.send("/start")["params"]["text"]  # a coordinator gets the help


def test_a_bengali_stranger_reads_the_id_in_digits_an_administrator_can_type(bot):
    update = message_update(4242, "/start")
    update["message"]["from"]["language_code"] = "bn"
    bot.sim.sim.inject_update(update)
    text = bot.wait_replies(4242, 1)[0]["params"]["text"]
    assert "আইডি 4242" in text


def outbox(services, template=None):
    with services.sessions() as s:
        query = select(OutboundMessage).order_by(OutboundMessage.id)
        if template:
            query = query.where(OutboundMessage.template == template)
        return list(s.scalars(query))


def test_help_lists_every_command(bot):
    text = bot.send("/help")["params"]["text"]
    for command in ("/status", "/site", "/manual", "/failed", "/retry", "/broadcast", "/chart", "/pending",
                    "/export", "/help"):
        assert command in text
    assert [c["command"] for c in bot.sim.sim.telegram.commands][:3] == ["status", "site", "manual"]


def test_unknown_words_get_a_pointer_to_help(bot):
    assert "/help" in bot.send("hello?")["params"]["text"]
    assert "/help" in bot.send("/frobnicate")["params"]["text"]


def test_site_shows_session_staff_masked_and_last_report(bot):
    text = bot.send("/site kal01")["params"]["text"]
    assert text.startswith("KAL01 Kalyani PHC (Nadia)")
    assert "Session: open, COVISHIELD lot 4120Z025" in text
    assert "Rina Vaccinator, vaccinator, +91********02, bn" in text
    assert "Call: Rina Vaccinator +919830000002" in text  # the in-charge, in full: Telegram makes it a link
    assert "+919830000003" not in text
    assert "Last report: -" not in text
    assert "NOPE is not one of your sites" in bot.send("/site NOPE")["params"]["text"]
    assert "Send /site CODE" in bot.send("/site")["params"]["text"]


def test_manual_mode_tells_the_site_staff_by_sms_and_alerts_coordinators(bot, bot_services):
    text = bot.send("/manual KAL01 on")["params"]["text"]
    assert "KAL01 is now in manual mode. 2 staff were told by SMS" in text
    with bot_services.sessions() as s:
        assert s.scalar(select(Site.manual_mode).where(Site.code == "KAL01")) is True
    told = outbox(bot_services, "staff.manual_mode")
    assert sorted((m.recipient, m.language) for m in told) == [("+919830000002", "bn"), ("+919830000003", "en")]
    assert "paper register" in [m for m in told if m.language == "en"][0].body
    alerts = outbox(bot_services, "alert.manual_mode")
    assert [(m.channel, m.recipient, m.body) for m in alerts] == [
        ("telegram", str(COORDINATOR_ID), "Kalyani PHC (KAL01) manual mode: ON")]
    assert "already in manual mode" in bot.send("/manual KAL01 on")["params"]["text"]
    assert len(outbox(bot_services, "staff.manual_mode")) == 2
    assert "back on SMS" in bot.send("/manual KAL01 off")["params"]["text"]
    assert len(outbox(bot_services, "staff.manual_mode_off")) == 2
    assert "Send /manual CODE on" in bot.send("/manual KAL01 maybe")["params"]["text"]


def test_failed_groups_by_error_and_retry_queues_again(bot, bot_services):
    text = bot.send("/failed")["params"]["text"]
    assert "Failed messages, last 24 hours: 1" in text
    assert "- the phone is switched off or out of reach: 1 (/retry all may reach them now)" in text
    assert "KAL01 Kalyani PHC: 1: Person 2 +91********02 (reminder, switched off)" in text
    assert "Queued again: 1." in bot.send("/retry all")["params"]["text"]
    [message] = outbox(bot_services, "appt.reminder_morning")
    assert (message.status, message.attempts) == ("pending", 0)
    assert "has not failed" in bot.send(f"/retry {message.id}")["params"]["text"]
    assert "no message 9999" in bot.send("/retry 9999")["params"]["text"]
    assert "Send /retry all" in bot.send("/retry everything")["params"]["text"]
    for not_an_id in ("²", "1" * 20):  # a digit int() refuses, an id no database holds
        assert "Send /retry all" in bot.send(f"/retry {not_an_id}")["params"]["text"]


def test_broadcast_is_sent_once_after_the_confirm_button(bot, bot_services):
    preview = bot.send("/broadcast KAL01 Sessions start at 9 today.")
    assert "Send this SMS to 2 staff at KAL01?" in preview["params"]["text"]
    buttons = preview["params"]["reply_markup"]["inline_keyboard"][0]
    assert [b["text"] for b in buttons] == ["Send", "Cancel"]
    assert outbox(bot_services, "broadcast") == []
    done = bot.press(buttons[0]["callback_data"])
    assert done["method"] == "editMessageText"
    assert done["params"]["text"] == "Sent to 2 staff. I will tell you what happened to them."
    sent = outbox(bot_services, "broadcast")
    assert sorted(m.recipient for m in sent) == ["+919830000002", "+919830000003"]
    assert {m.body for m in sent} == {"Sessions start at 9 today."}
    again = bot.press(buttons[0]["callback_data"])
    assert again["params"]["text"] == "This broadcast was already sent."
    late_cancel = bot.press(buttons[1]["callback_data"])
    assert late_cancel["params"]["text"] == "This broadcast was already sent or cancelled."
    assert len(outbox(bot_services, "broadcast")) == 2


def test_a_cancelled_broadcast_sends_nothing(bot, bot_services):
    preview = bot.send("/broadcast ALL Stock arrives at noon")
    assert "3 staff at every site" in preview["params"]["text"]
    yes, no = preview["params"]["reply_markup"]["inline_keyboard"][0]
    assert "cancelled" in bot.press(no["callback_data"])["params"]["text"]
    assert bot.press(yes["callback_data"])["params"]["text"] == "This broadcast was already sent."
    assert outbox(bot_services, "broadcast") == []
    assert "NOPE is not one of your sites" in bot.send("/broadcast NOPE hi")["params"]["text"]


def test_chart_is_a_png_photo(bot):
    reply = bot.send("/chart")
    assert reply["method"] == "sendPhoto"
    assert reply["params"]["caption"].endswith(": 2")
    assert reply["files"]["photo"]["size"] > 1000


def test_pending_counts_records_not_synced(bot):
    text = bot.send("/pending")["params"]["text"]
    assert "not yet synced upstream: 2" in text and "KAL01: 2 records" in text


def test_pending_names_the_oldest_record_and_what_the_registry_refused(bot, bot_services):
    from sqlalchemy import select

    from tikabot.store.models import Dose

    with bot_services.transaction() as s:
        first = s.scalars(select(Dose).order_by(Dose.id)).first()
        first.sync_state, first.sync_error = "failed", "HTTP 422: error: lot is not in the register"
    text = bot.send("/pending")["params"]["text"]
    assert "not yet synced upstream: 2" in text and "KAL01: 2 records (1 refused)" in text
    assert "Oldest: ref 100000000000 dose 1 at KAL01" in text and "lot is not in the register" in text


def test_export_sends_the_csv_as_a_document(bot, district):
    day = district["today"].isoformat()
    reply = bot.send("/export KAL01")
    assert reply["method"] == "sendDocument"
    assert reply["files"]["document"]["filename"] == f"doses-{day}-KAL01.csv"
    assert reply["params"]["caption"] == f"2 dose records, {day}, KAL01"
    assert bot.send(f"/export {day}")["params"]["caption"] == f"2 dose records, {day}, all sites"
    assert "not a real date" in bot.send("/export 2024-02-30")["params"]["text"]
    assert "NOPE is not one of your sites" in bot.send("/export NOPE")["params"]["text"]


def test_long_status_paginates_with_buttons(bot, bot_services):
    with bot_services.transaction() as s:
        s.add_all([Site(code=f"S{i:02d}", name=f"Site {i}", district="Nadia") for i in range(20)])
    first = bot.send("/status")
    assert "(page 1 of 3)" in first["params"]["text"]
    [[next_button]] = first["params"]["reply_markup"]["inline_keyboard"]
    second = bot.press(next_button["callback_data"])
    assert second["method"] == "editMessageText" and "(page 2 of 3)" in second["params"]["text"]
    assert [b["text"] for b in second["params"]["reply_markup"]["inline_keyboard"][0]] == ["< Prev", "Next >"]


def test_an_inactive_coordinator_is_refused_too(bot):
    assert "only for district and state coordinators" in bot.send("/status", user_id=555)["params"]["text"]


def test_a_coordinator_adds_a_substitute_vaccinator_who_counts_as_staff_at_once(bot, bot_services):
    text = bot.send("/staff add kal01 98300 Rina")["params"]["text"]  # a phone too short to be one
    assert text.startswith("Not added: ")
    text = bot.send("/staff add KAL01 9830077777 Tania Sarkar")["params"]["text"]
    assert text.startswith("Tania Sarkar (+91********77) is now a vaccinator at KAL01 Kalyani PHC.")
    assert "START <VACCINE> <LOT>" in text
    with bot_services.sessions() as s:
        row = s.scalar(select(Staff).where(Staff.phone == "+919830077777"))
        added = (row.role, row.site.code, row.active)
        audit = s.scalars(select(AuditLog).where(AuditLog.action == "staff.substitute_added")).all()
    assert added == ("vaccinator", "KAL01", True)
    assert [a.actor for a in audit] == [f"telegram:{COORDINATOR_ID}"]
    assert "is already a vaccinator at KAL01" in bot.send("/staff add KAL01 9830077777 Tania Sarkar")["params"]["text"]
    moved = bot.send("/staff add BAR02 9830077777 Tania Sarkar verifier")["params"]["text"]
    assert "is now a verifier at BAR02" in moved
    assert "/staff add CODE PHONE NAME" in bot.send("/staff KAL01")["params"]["text"]
    assert "/staff add" in bot.send("/help")["params"]["text"]


def test_a_substitute_at_a_site_outside_the_scope_is_refused_like_an_unknown_site(bot, bot_services):
    text = bot.send("/staff add DARJ01 9830077778 Someone")["params"]["text"]
    assert text.startswith("DARJ01 is not one of your sites")
    with bot_services.sessions() as s:
        assert s.scalar(select(Staff).where(Staff.phone == "+919830077778")) is None
    bot.send("/staff add KAL01 9830077779 X", user_id=STRANGER_ID)  # refused with their id (above), nothing added
    with bot_services.sessions() as s:
        assert s.scalar(select(Staff).where(Staff.phone == "+919830077779")) is None
