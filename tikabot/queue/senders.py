"""Channel -> sender. The one table the send job looks a channel up in.

A sender is built once per worker process from the Config and offers three coroutines:

    async send(message: Outgoing) -> Accepted          # or raise queue.sending.SendError
    async find_existing(message, since) -> Accepted | None   # was an earlier attempt received?
    async close() -> None

To add a channel (e.g. "telegram" through python-telegram-bot), write the sender in its
handler module and add one line below: `"telegram": lambda config: TelegramSender(config),`.
Messages of a channel missing from this table stay pending (never lost, never claimed).
"""
from __future__ import annotations

from typing import Callable

from tikabot.handlers.android_gateway import AndroidSender
from tikabot.handlers.exotel import ExotelSender
from tikabot.handlers.telegram import TelegramSender
from tikabot.handlers.twilio_sms import TwilioSender

SENDERS: dict[str, Callable] = {
    "sms": lambda config: TwilioSender(config),
    "voice": lambda config: TwilioSender(config, voice=True),
    "telegram": lambda config: TelegramSender(config),
    "android": lambda config: AndroidSender(config),
    "exotel": lambda config: ExotelSender(config),
    "exotel_voice": lambda config: ExotelSender(config, voice=True),
}
