"""Outbound Telegram: the sender for outbox rows with channel "telegram" (recipient = chat/user id).

It speaks the send pipeline's sender interface (tikabot/queue/senders.py): `send` returns
Accepted or raises SendError whose kind says retry / fail. A 429 from the Bot API carries
`retry_after`: the sender waits exactly that long and tries again (up to MAX_RETRY_WAIT and
MAX_TRIES), so the pipeline's own back-off only sees a rate limit that outlasts that.
"""
from __future__ import annotations

import asyncio
import logging
import os
from datetime import timedelta
from typing import Awaitable, Callable

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import (
    BadRequest, ChatMigrated, Conflict, EndPointNotFound, Forbidden, InvalidToken, NetworkError, RetryAfter,
    TelegramError, TimedOut,
)
from telegram.request import HTTPXRequest

from tikabot.core.sending import (
    FAIL, NETWORK_ERROR, RETRY, TIMEOUT, Accepted, ErrorKind, Outgoing, SendError,
)

# Opt in to python-telegram-bot's timedelta periods (v23 behaviour); see tikabot/bot/__init__.py.
os.environ.setdefault("PTB_TIMEDELTA", "true")

MAX_TEXT = 4096
# A longer retry_after goes back to the queue (its retry no sooner than Telegram asked) instead of
# holding the message: two waits in one send must stay well inside the sender's lease.
MAX_RETRY_WAIT = 5.0
MAX_TRIES = 3
RATE_LIMITED = ErrorKind("rate_limited", RETRY)

log = logging.getLogger(__name__)

# Bot API failures by exception class; the most specific class in the exception's MRO wins.
# A refused token is retried slowly rather than pausing every channel: SMS must keep going.
TELEGRAM_ERRORS: dict[type[TelegramError], ErrorKind] = {
    RetryAfter: RATE_LIMITED,
    TimedOut: TIMEOUT,
    BadRequest: ErrorKind("telegram_bad_request", FAIL),  # chat not found, empty text
    Forbidden: ErrorKind("telegram_blocked", FAIL),       # the user blocked the bot or never started it
    ChatMigrated: ErrorKind("telegram_chat_migrated", FAIL),
    InvalidToken: ErrorKind("telegram_token_refused", RETRY, slow=True),
    EndPointNotFound: ErrorKind("telegram_not_found", RETRY, slow=True),
    Conflict: ErrorKind("telegram_conflict", RETRY),
    NetworkError: NETWORK_ERROR,
    TelegramError: ErrorKind("telegram_error", RETRY),
}
ERROR_CODES: dict[type[TelegramError], str] = {RetryAfter: "429", BadRequest: "400", Forbidden: "403",
                                               InvalidToken: "401", EndPointNotFound: "404", Conflict: "409"}


def bot_base_url(api_base: str) -> str:
    """python-telegram-bot's base_url from TELEGRAM_API_BASE ("https://api.telegram.org");
    a value that already ends in /bot is taken as it is."""
    base = api_base.rstrip("/")
    return base if base.endswith("/bot") else f"{base}/bot"


def kind_of(exc: TelegramError) -> tuple[ErrorKind, str]:
    for cls in type(exc).__mro__:
        if cls in TELEGRAM_ERRORS:
            return TELEGRAM_ERRORS[cls], ERROR_CODES.get(cls, TELEGRAM_ERRORS[cls].name[:10])
    raise TypeError(exc)  # unreachable: TelegramError is in the table


def retry_after_s(exc: RetryAfter) -> float:
    wait = exc.retry_after
    return wait.total_seconds() if isinstance(wait, timedelta) else float(wait)


def keyboard(rows: list | None) -> InlineKeyboardMarkup | None:
    """An outbox row's buttons ([[label, callback data], ...] per row) as an inline keyboard."""
    if not rows:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data) for label, data in row]
                                 for row in rows])


class TelegramSender:
    """One per worker process; keeps one Bot (and its HTTP connections) across jobs."""

    def __init__(self, config, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep):
        self.config = config
        self.sleep = sleep
        self.bot: Bot | None = None
        if config.telegram_bot_token:
            timeout = config.twilio_timeout
            self.bot = Bot(config.telegram_bot_token, base_url=bot_base_url(config.telegram_api_base),
                           request=HTTPXRequest(connect_timeout=timeout, read_timeout=timeout,
                                                write_timeout=timeout))

    async def send(self, message: Outgoing) -> Accepted:
        if self.bot is None:
            raise SendError(TELEGRAM_ERRORS[InvalidToken], "401", "TELEGRAM_BOT_TOKEN is not set")
        if not message.recipient.lstrip("-").isdigit():
            raise SendError(TELEGRAM_ERRORS[BadRequest], "400", "recipient is not a Telegram chat id")
        for attempt in range(1, MAX_TRIES + 1):
            try:
                await self.bot.initialize()  # once: getMe, connection pool
                sent = await self.bot.send_message(chat_id=int(message.recipient), text=message.body[:MAX_TEXT],
                                                   reply_markup=keyboard(message.buttons))
            except RetryAfter as exc:
                wait = retry_after_s(exc)
                if wait > MAX_RETRY_WAIT or attempt == MAX_TRIES:
                    raise SendError(RATE_LIMITED, "429", f"retry after {wait:.0f} s", wait_s=wait) from exc
                log.info("telegram asks to wait %.0f s before message %s", wait, message.id)
                await self.sleep(wait)
            except TelegramError as exc:
                kind, code = kind_of(exc)
                raise SendError(kind, code, str(exc)[:80]) from exc
            else:
                return Accepted(f"tg-{sent.chat.id}-{sent.message_id}", "delivered")
        raise AssertionError("unreachable")

    async def find_existing(self, message: Outgoing, since,
                            exclude: frozenset[str] = frozenset()) -> Accepted | None:
        """The Bot API cannot list sent messages: an attempt whose outcome is unknown is sent again."""
        return None

    async def close(self) -> None:
        if self.bot is not None:
            await self.bot.shutdown()
