"""Outbound Telegram: send one outbox message (channel "telegram", recipient = chat/user id).

The channel module only translates: it sends through python-telegram-bot and turns the Bot API's
answer into a SendResult; the queue decides what to do with it. A 429 carries `retry_after`: the
result says how long to wait, and `deliver` waits that long (bounded) before trying again.
"""
from __future__ import annotations

import asyncio
import logging
import os
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

from telegram import Bot
from telegram.error import (
    BadRequest, ChatMigrated, Conflict, EndPointNotFound, Forbidden, InvalidToken, NetworkError, RetryAfter,
    TelegramError, TimedOut,
)
from telegram.request import HTTPXRequest

from tikabot.store.models import OutboundMessage

# Opt in to python-telegram-bot's timedelta periods (v23 behaviour); see tikabot/bot/__init__.py.
os.environ.setdefault("PTB_TIMEDELTA", "true")

MAX_TEXT = 4096
MAX_RETRY_WAIT = 60.0  # longer waits go back to the queue instead of holding a worker
MAX_TRIES = 3

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SendResult:
    ok: bool
    provider_id: str | None = None
    error_code: str | None = None
    retryable: bool = False
    retry_after: float | None = None
    stop_sending: bool = False  # the bot token itself is refused: stop and alert


# Bot API failures by exception class (most specific class wins): (error code, retryable, stop).
ERRORS: dict[type[TelegramError], tuple[str, bool, bool]] = {
    RetryAfter: ("429", True, False),
    TimedOut: ("timeout", True, False),
    BadRequest: ("400", False, False),       # e.g. chat not found, text empty
    NetworkError: ("network", True, False),
    Forbidden: ("403", False, False),        # the user blocked the bot or never started it
    ChatMigrated: ("migrated", False, False),
    InvalidToken: ("401", False, True),
    EndPointNotFound: ("404", False, True),
    Conflict: ("409", True, False),
    TelegramError: ("telegram", True, False),
}


def classify(exc: TelegramError) -> SendResult:
    for kind in type(exc).__mro__:
        if kind in ERRORS:
            code, retryable, stop = ERRORS[kind]
            break
    wait = getattr(exc, "retry_after", None)
    if isinstance(wait, timedelta):
        wait = wait.total_seconds()
    return SendResult(ok=False, error_code=code, retryable=retryable, stop_sending=stop,
                      retry_after=float(wait) if wait is not None else None)


async def send_with_bot(bot: Bot, chat_id: str, text: str) -> SendResult:
    try:
        sent = await bot.send_message(chat_id=int(chat_id), text=text[:MAX_TEXT])
    except TelegramError as exc:
        result = classify(exc)
        log.warning("telegram send to chat %s failed: %s", chat_id, result.error_code)
        return result
    return SendResult(ok=True, provider_id=f"tg-{sent.chat.id}-{sent.message_id}")


def send_text(chat_id: str, text: str, *, token: str, api_base: str, timeout: float = 10.0) -> SendResult:
    """One attempt, synchronously (queue jobs are sync)."""
    async def attempt() -> SendResult:
        request = HTTPXRequest(connect_timeout=timeout, read_timeout=timeout, write_timeout=timeout)
        try:
            async with Bot(token, base_url=f"{api_base.rstrip('/')}/bot", request=request) as bot:
                return await send_with_bot(bot, chat_id, text)
        except TelegramError as exc:  # getMe at start-up failed (bad token, network)
            return classify(exc)

    return asyncio.run(attempt())


def deliver(chat_id: str, text: str, *, token: str, api_base: str, timeout: float = 10.0,
            sleep: Callable[[float], None] = time.sleep) -> SendResult:
    """Send, waiting out a 429's retry_after (up to MAX_RETRY_WAIT) before each new try."""
    for _ in range(MAX_TRIES):
        result = send_text(chat_id, text, token=token, api_base=api_base, timeout=timeout)
        if result.ok or result.retry_after is None or result.retry_after > MAX_RETRY_WAIT:
            return result
        sleep(result.retry_after)
    return result


def send_message(message: OutboundMessage, config, sleep: Callable[[float], None] = time.sleep) -> SendResult:
    """The sender for outbox rows with channel "telegram"."""
    if not config.telegram_bot_token:
        return SendResult(ok=False, error_code="no-token", retryable=False, stop_sending=True)
    return deliver(message.recipient, message.body, token=config.telegram_bot_token,
                   api_base=config.telegram_api_base, sleep=sleep)
