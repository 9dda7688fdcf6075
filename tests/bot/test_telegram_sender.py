"""The outbound Telegram sender against the simulator's Bot API, alone and inside the send pipeline."""
from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest
from telegram.error import BadRequest, Forbidden, TimedOut

from tests.support import wait_for
from tests.support.jobs import JobDrain
from tikabot.alerts.coordinators import alert_coordinators
from tikabot.core.clock import as_utc, now
from tikabot.handlers.telegram import TelegramSender, kind_of
from tikabot.core.sending import FAIL, RETRY, Outgoing, SendError
from tikabot.outbox import transport
from tikabot.queue import runtime
from tikabot.queue.relay import Relay
from tikabot.queue.settings import SendSettings
from tikabot.stack.worker import Worker, queues
from tikabot.store.models import OutboundMessage, Staff

TEXT = "SEVERE AEFI at Kalyani PHC: REF 100000000001. Note: fainted"


def outgoing(recipient="111"):
    return Outgoing(id=1, attempt=1, channel="telegram", recipient=recipient, body=TEXT, language="en",
                    priority="otp", expires_at=None)


def send(config, message, waits=None):
    async def record(seconds):
        waits.append(seconds)

    async def main():
        sender = TelegramSender(config, sleep=record)
        try:
            return await sender.send(message)
        finally:
            await sender.close()

    return asyncio.run(main())


def test_a_message_is_sent_to_the_chat(sim, bot_services):
    accepted = send(bot_services.config, outgoing())
    assert accepted.provider_id.startswith("tg-111-") and accepted.provider_status == "delivered"
    [call] = sim.sim.telegram_calls("sendMessage")
    assert call["params"]["chat_id"] == 111 and call["params"]["text"] == TEXT


def test_a_429_is_retried_after_retry_after(sim, bot_services):
    sim.sim.configure(telegram_429_next=2, telegram_retry_after=2)
    waits = []
    assert send(bot_services.config, outgoing(), waits).provider_id.startswith("tg-111-")
    assert waits == [2.0, 2.0]
    assert len(sim.sim.telegram_calls("sendMessage")) == 3


def test_a_long_retry_after_goes_back_to_the_queue(sim, bot_services):
    sim.sim.configure(telegram_429_next=1, telegram_retry_after=600)
    waits = []
    with pytest.raises(SendError) as caught:
        send(bot_services.config, outgoing(), waits)
    assert (caught.value.kind.action, caught.value.code, caught.value.wait_s) == (RETRY, "429", 600.0)
    assert waits == []


def severe_alert_to_a_coordinator(bot_services, key: str) -> OutboundMessage:
    """A coordinator on Telegram, a SEVERE alert for them in the outbox, and a runtime to send it."""
    with bot_services.transaction() as s:
        s.add(Staff(phone="+919830000001", name="Asha", role="coordinator", telegram_user_id=111))
    with bot_services.transaction() as s:
        [message] = alert_coordinators(s, key=key, template="alert.aefi_severe",
                                       params={"site": "Kalyani PHC", "ref": "100000000001", "note": "fainted"})
    runtime.install(bot_services, SendSettings(lease_s=5.0, retry_base_s=0.05, retry_cap_s=0.2))
    return message


def test_an_alert_telegram_holds_back_is_retried_no_sooner_than_it_asked(sim, bot_services):
    """Not within the back-off's few seconds (five of those would fail a SEVERE alert for good)."""
    sim.sim.configure(telegram_429_next=1, telegram_retry_after=120)
    message = severe_alert_to_a_coordinator(bot_services, "aefi-2")
    asked_at = now()  # Telegram's answer comes after this: the retry is due 120 s after it, however slow the run
    try:
        transport.move_all_ready(bot_services.redis)
        Worker(queues(bot_services.redis), connection=bot_services.redis).work(burst=True,
                                                                                     logging_level="ERROR")
    finally:
        runtime.uninstall()
    with bot_services.sessions() as s:
        stored = s.get(OutboundMessage, message.id)
    assert (stored.status, stored.last_error_code) == ("pending", "429")
    assert as_utc(stored.not_before) >= asked_at + timedelta(seconds=120)


def test_a_refused_token_or_a_bad_chat_id_is_a_named_error(sim, bot_services):
    with pytest.raises(SendError) as refused:
        send(replace(bot_services.config, telegram_bot_token="1:wrong"), outgoing())
    assert (refused.value.code, refused.value.kind.slow) == ("401", True)
    with pytest.raises(SendError) as bad:
        send(bot_services.config, outgoing(recipient="+919830000001"))
    assert bad.value.kind.action == FAIL


def test_bot_api_errors_are_classified_by_table():
    assert kind_of(Forbidden("bot was blocked by the user"))[0].action == FAIL
    assert kind_of(BadRequest("Chat not found"))[1] == "400"
    assert kind_of(TimedOut())[0].name == "timeout"


def test_an_alert_goes_through_the_outbox_and_survives_a_429(sim, bot_services):
    sim.sim.configure(telegram_429_next=1, telegram_retry_after=1)
    message = severe_alert_to_a_coordinator(bot_services, "aefi-1")
    jobs = JobDrain(bot_services.redis)
    try:
        relay = Relay(bot_services, runtime.current().settings)

        def after_a_pass():
            relay.run_once(force=True)
            jobs.run()
            with bot_services.sessions() as s:
                return s.get(OutboundMessage, message.id)

        wait_for(lambda: after_a_pass().status == "delivered", 20, interval=0.05)
        stored = after_a_pass()
    finally:
        jobs.close()
        runtime.uninstall()
    assert (stored.status, stored.attempts) == ("delivered", 1)
    calls = sim.sim.telegram_calls("sendMessage")
    assert len(calls) == 2 and calls[-1]["params"]["text"].startswith("SEVERE AEFI at Kalyani PHC")
    assert stored.provider_id.startswith("tg-111-")


def test_the_api_base_is_taken_with_or_without_bot():
    from tikabot.handlers.telegram import bot_base_url

    assert bot_base_url("https://api.telegram.org") == "https://api.telegram.org/bot"
    assert bot_base_url("http://127.0.0.1:8900/bot/") == "http://127.0.0.1:8900/bot"


def test_an_alert_goes_with_its_buttons(sim, bot_services):
    """An outbox row's buttons arrive as Telegram's inline keyboard, callback data intact."""
    rows = [[["/site KAL01", "al:site:KAL01"], ["Manual mode KAL01", "al:man:KAL01"]], [["Acknowledge", "al:ack:7"]]]
    send(bot_services.config, replace(outgoing(), buttons=rows))
    [call] = sim.sim.telegram_calls("sendMessage")
    keyboard = call["params"]["reply_markup"]["inline_keyboard"]
    assert [[(b["text"], b["callback_data"]) for b in row] for row in keyboard] == [
        [("/site KAL01", "al:site:KAL01"), ("Manual mode KAL01", "al:man:KAL01")], [("Acknowledge", "al:ack:7")]]
