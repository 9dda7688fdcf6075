"""Channel -> sender. The one table the send job looks a channel up in.

A sender is built once per worker process from the Config and offers three coroutines:

    async send(message: Outgoing) -> Accepted          # or raise queue.sending.SendError
    async find_existing(message, since, exclude) -> Accepted | None   # was an earlier attempt received? (not a copy in exclude)
    async close() -> None

To add a channel (e.g. "telegram" through python-telegram-bot), write the sender in its
handler module and add one line below: `"telegram": lambda config: TelegramSender(config),`.
Messages of a channel missing from this table stay pending (never lost, never claimed).
"""
from __future__ import annotations

from typing import Callable

from tikabot.handlers.android_gateway import AndroidSender
from tikabot.handlers.cdac import CdacSender
from tikabot.handlers.exotel import ExotelSender
from tikabot.handlers.kannel import KannelSender
from tikabot.handlers.nic import NicSender
from tikabot.handlers.telegram import TelegramSender
from tikabot.handlers.twilio_sms import TwilioSender

SENDERS: dict[str, Callable] = {
    "sms": lambda config: TwilioSender(config),
    "voice": lambda config: TwilioSender(config, voice=True),
    "telegram": lambda config: TelegramSender(config),
    "android": lambda config: AndroidSender(config),
    "exotel": lambda config: ExotelSender(config),
    "exotel_voice": lambda config: ExotelSender(config, voice=True),
    "cdac": lambda config: CdacSender(config),
    "nic": lambda config: NicSender(config),
    "kannel": lambda config: KannelSender(config),
}

# A route may be named in TIKABOT_ROUTES only when its provider is configured: its sender exists
# in this build *and* its account (or phone) is set up. Twilio needs no check: it is the default.
_SET_UP: dict[str, Callable] = {
    "android": lambda config: bool(config.smsgate_phones),
    "exotel": lambda config: bool(config.exotel_account_sid),
    "cdac": lambda config: bool(config.cdac_username),
    "nic": lambda config: bool(config.nic_username),
    "kannel": lambda config: bool(config.kannel_sendsms_url),
}


def configured(config, senders: dict[str, Callable] | None = None) -> dict[str, Callable]:
    """The entries of `senders` (SENDERS) whose provider this configuration has set up."""
    senders = SENDERS if senders is None else senders
    return {key: make for key, make in senders.items() if _SET_UP.get(key, lambda _c: True)(config)}
