"""The coordinator bot end to end: updates in through the simulator's Bot API, replies read back from it."""
from __future__ import annotations

from sqlalchemy import select

from tikabot.store.models import AuditLog

from conftest import COORDINATOR_ID, STRANGER_ID, message_update


def test_a_coordinator_gets_the_status_of_every_site(bot):
    reply = bot.send("/status")
    text = reply["params"]["text"]
    assert "2 sites, 1 open, 2 doses" in text
    assert "KAL01 Kalyani PHC: open, sms, doses D1:2, due 4, remaining 2, failed sends 1" in text
    assert "BAR02 Barasat SDH: no session, sms, doses 0, due 1, remaining 1, failed sends 0" in text


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
