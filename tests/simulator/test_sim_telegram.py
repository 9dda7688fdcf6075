"""python-telegram-bot against the simulator's Bot API."""

from __future__ import annotations

import asyncio
import io
import json
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from telegram import Bot
from telegram.error import RetryAfter

TOKEN = "123456:TEST-token"


def run_with_bot(sim, work):
    async def main():
        async with Bot(TOKEN, base_url=f"{sim.url}/bot") as bot:
            return await work(bot)

    return asyncio.run(main())


def post_json(url, body):
    request = urllib.request.Request(url, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def test_get_me_and_send_message(sim):
    async def work(bot):
        return bot.bot, await bot.send_message(chat_id=42, text="Your dose is at 10:00")

    me, message = run_with_bot(sim, work)
    assert me.id == 123456 and me.is_bot
    assert message.chat.id == 42 and message.text == "Your dose is at 10:00"
    sent = sim.sim.telegram_calls("sendMessage")
    assert sent[0]["params"]["chat_id"] == 42
    assert sent[0]["params"]["text"] == "Your dose is at 10:00"


def test_send_document_records_the_upload(sim):
    payload = b"site,doses\nDhaka-1,120\n"

    async def work(bot):
        return await bot.send_document(chat_id=42, document=io.BytesIO(payload),
                                       filename="report.csv", caption="Today")

    message = run_with_bot(sim, work)
    assert message.document.file_name == "report.csv"
    assert message.document.file_size == len(payload)
    assert message.caption == "Today"
    upload = sim.sim.telegram_calls("sendDocument")[0]["files"]["document"]
    assert upload["size"] == len(payload) and upload["filename"] == "report.csv"


def test_get_updates_returns_injected_updates(sim):
    injected = post_json(f"{sim.url}/_sim/telegram/updates", {"chat_id": 7, "text": "/start"})
    sim.sim.inject_update({"chat_id": 7, "text": "1"})

    async def work(bot):
        first = await bot.get_updates(timeout=1)
        confirmed = await bot.get_updates(offset=first[-1].update_id + 1, timeout=0)
        return first, confirmed

    first, confirmed = run_with_bot(sim, work)
    assert [u.message.text for u in first] == ["/start", "1"]
    assert first[0].message.parse_entities(["bot_command"]) == {first[0].message.entities[0]: "/start"}
    assert first[1].message.entities == ()  # as Telegram sends them: only a command is marked
    assert first[0].update_id == injected["update_id"]
    assert confirmed == ()


def test_long_poll_wakes_on_a_new_update(sim):
    async def work(bot):
        poll = asyncio.create_task(bot.get_updates(timeout=20))
        while not sim.sim.telegram_calls("getUpdates"):  # the poll is waiting at the simulator
            assert not poll.done()
            await asyncio.sleep(0.01)
        await asyncio.to_thread(sim.sim.inject_update, {"chat_id": 9, "text": "hi"})
        return await asyncio.wait_for(poll, 15)

    updates = run_with_bot(sim, work)
    assert updates[0].message.text == "hi"


def test_429_raises_retry_after(sim, monkeypatch):
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    sim.sim.configure(telegram_429_next=1, telegram_retry_after=7)

    async def work(bot):
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(chat_id=42, text="too fast")
        await bot.send_message(chat_id=42, text="later")
        return caught.value

    error = run_with_bot(sim, work)
    assert error.retry_after == timedelta(seconds=7)


def test_webhook_methods_and_unknown_methods(sim):
    async def work(bot):
        await bot.set_webhook("https://example.org/tg", secret_token="s3cret")
        info = await bot.get_webhook_info()
        await bot.delete_webhook()
        await bot.set_my_commands([("start", "Register")])
        commands = await bot.get_my_commands()
        await bot.set_chat_title(chat_id=-100123, title="Site team")
        return info, commands

    info, commands = run_with_bot(sim, work)
    assert info.url == "https://example.org/tg"
    assert commands[0].command == "start"
    assert sim.sim.telegram_calls("setChatTitle")


def test_a_token_not_shaped_like_one_is_not_found_as_on_telegram(sim):
    from telegram.error import InvalidToken

    async def work():
        async with Bot("no-colon-here", base_url=f"{sim.url}/bot") as bot:
            return bot

    with pytest.raises(InvalidToken) as refused:
        asyncio.run(work())
    assert "Not Found" in str(refused.value.__cause__)


def test_telegram_down_answers_every_call_with_the_fronts_502_page_a_waiting_poll_too(sim):
    from telegram.error import NetworkError

    async def work(bot):
        poll = asyncio.create_task(bot.get_updates(timeout=20))
        while not sim.sim.telegram_calls("getUpdates"):  # the poll is waiting at the simulator
            await asyncio.sleep(0.01)
        await asyncio.to_thread(sim.sim.configure, telegram_down="502")
        with pytest.raises(NetworkError) as cut_off:
            await asyncio.wait_for(poll, 15)
        with pytest.raises(NetworkError) as refused:
            await bot.send_message(chat_id=42, text="while down")
        await asyncio.to_thread(sim.sim.configure, telegram_down=None)
        return cut_off.value, refused.value, await bot.send_message(chat_id=42, text="back")

    cut_off, refused, back = run_with_bot(sim, work)
    for error in (cut_off, refused):
        assert str(error).startswith("Bad Gateway (502). Parsing the server response b'<html>")
    assert back.text == "back"
    with pytest.raises(urllib.error.HTTPError) as bad:
        post_json(f"{sim.url}/_sim/config", {"telegram_down": "maybe"})
    assert bad.value.code == 400
