"""The outbound Telegram sender against the simulator's Bot API."""
from __future__ import annotations

from dataclasses import replace

from telegram.error import BadRequest, Forbidden, TimedOut

from tikabot.handlers import telegram as sender
from tikabot.store.models import OutboundMessage

from conftest import TOKEN


def alert_row(recipient="111", body="SEVERE AEFI at Kalyani PHC: REF 100000000001. Note: fainted"):
    return OutboundMessage(idempotency_key="alert-x", channel="telegram", recipient=recipient,
                           template="alert.aefi_severe", body=body)


def test_a_message_is_sent_to_the_chat(sim, bot_services):
    result = sender.send_message(alert_row(), bot_services.config)
    assert result.ok and result.provider_id.startswith("tg-111-")
    [call] = sim.sim.telegram_calls("sendMessage")
    assert call["params"]["chat_id"] == 111 and call["params"]["text"].startswith("SEVERE AEFI")


def test_a_429_is_retried_after_retry_after(sim, bot_services):
    sim.sim.configure(telegram_429_next=2, telegram_retry_after=2)
    waits = []
    result = sender.send_message(alert_row(), bot_services.config, sleep=waits.append)
    assert result.ok
    assert waits == [2.0, 2.0]
    assert len(sim.sim.telegram_calls("sendMessage")) == 3


def test_a_long_retry_after_goes_back_to_the_queue(sim, bot_services):
    sim.sim.configure(telegram_429_next=1, telegram_retry_after=600)
    waits = []
    result = sender.send_message(alert_row(), bot_services.config, sleep=waits.append)
    assert (result.ok, result.retryable, result.retry_after, result.error_code) == (False, True, 600.0, "429")
    assert waits == []


def test_a_refused_token_stops_sending(sim, bot_services):
    config = replace(bot_services.config, telegram_bot_token="1:wrong" if TOKEN != "1:wrong" else "2:x")
    result = sender.send_message(alert_row(), config)
    assert (result.ok, result.retryable, result.stop_sending) == (False, False, True)
    assert not sender.send_message(alert_row(), replace(config, telegram_bot_token=None)).ok


def test_bot_api_errors_are_classified_by_table():
    assert sender.classify(Forbidden("bot was blocked by the user")).retryable is False
    assert sender.classify(BadRequest("Chat not found")).error_code == "400"
    assert sender.classify(TimedOut()).retryable is True
