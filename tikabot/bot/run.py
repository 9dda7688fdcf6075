"""`tikabot bot`: the coordinator bot in its own process, by long polling or by webhook."""
from __future__ import annotations

import asyncio
import logging
import re
import signal
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Update
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import TypeHandler

from tikabot.bot.app import build_application
from tikabot.bot.deps import BotDeps
from tikabot.bot.webhook import make_webhook_app
from tikabot.config import Config
from tikabot.services import Services

SECRET_SHAPE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")

log = logging.getLogger(__name__)


class BotConfigError(ValueError):
    """What the bot cannot start without, said in one line naming what to set. Starting again cannot
    help, so `tikabot bot` exits with EX_CONFIG (78) and the unit's RestartPreventExitStatus leaves it
    stopped instead of restarting it every few seconds."""


def check(config: Config, webhook_url: str | None) -> None:
    if not config.telegram_bot_token:
        raise BotConfigError("TELEGRAM_BOT_TOKEN is not set: put the token @BotFather gave for the coordinator bot "
                             "in the settings (/etc/tikabot/env or .env), then start the bot again")
    if webhook_url is not None:
        if not config.telegram_webhook_secret or not SECRET_SHAPE.match(config.telegram_webhook_secret):
            raise BotConfigError("webhook mode needs TELEGRAM_WEBHOOK_SECRET: 1-256 of A-Z a-z 0-9 _ -")
        if urlsplit(webhook_url).scheme not in ("http", "https"):
            raise BotConfigError(f"--webhook-url must be an http(s) URL, not {webhook_url!r}")


class Unreachable:
    """Telegram not answering (the network, a proxy, the simulator stopped): said once in the log
    (no traceback), then quiet while the bot keeps retrying, and said again once it answers."""

    def __init__(self, api_base: str):
        self.api_base = api_base
        self.down = False

    def failed(self, exc: Exception) -> None:
        if self.down:
            log.debug("Telegram still not answering: %s", exc)
            return
        self.down = True
        log.warning("cannot reach Telegram at %s (%s); the bot keeps trying, quietly, until it answers",
                    self.api_base, exc)

    def answered(self) -> None:
        if self.down:
            self.down = False
            log.warning("Telegram at %s answers again", self.api_base)


def said(exc: BaseException, token: str | None) -> str:
    """What Telegram (or the way to it) answered, short: python-telegram-bot adds the whole body of an
    answer that is not Telegram's JSON (a proxy's HTML error page) to its message, and names the
    token when getMe is refused; neither belongs in a log line."""
    text = str(getattr(exc, "message", None) or exc)
    cut = text.find(". Parsing the server response")
    if cut >= 0:
        text = text[:cut] + ", a web page instead of Telegram's answer"
    if token:
        text = text.replace(token, "<TELEGRAM_BOT_TOKEN>")
    return text[:200]


def refused(config: Config, exc: InvalidToken) -> BotConfigError:
    """Telegram's 401 (a token it does not know) or 404 (a token not shaped like one) at getMe."""
    answer = said(exc.__cause__ if isinstance(exc.__cause__, TelegramError) else exc, config.telegram_bot_token)
    return BotConfigError(f"Telegram at {config.telegram_api_base} refuses TELEGRAM_BOT_TOKEN ({answer}): "
                          "set the token @BotFather gave for the coordinator bot (/mybots, API Token), then start "
                          "the bot again")


RETRY_S = 5.0  # between attempts to reach Telegram at start


class _LastPollQuiet(logging.Filter):
    """On the way out, python-telegram-bot asks Telegram once more to mark what it fetched as read,
    and logs a traceback when Telegram is gone (the simulator stops with `tikabot up`): one line
    instead, the updates are simply fetched again at the next start."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and "one more time" in record.getMessage():
            log.info("Telegram did not answer the last poll on the way out; its updates come again at the next start")
            return False
        return True


async def poll(services: Services, stop: asyncio.Event, announce=log.info, retry_s: float = RETRY_S) -> None:
    """Long polling until `stop` is set. Waits for Telegram to answer before it starts (a bot started
    while the network is out comes up when it returns), and reports trouble once (Unreachable)."""
    config = services.config
    check(config, None)
    application = build_application(BotDeps(services), config.telegram_bot_token, config.telegram_api_base)
    trouble = Unreachable(config.telegram_api_base)

    async def heard(_update: object, _context: object) -> None:
        trouble.answered()

    application.add_handler(TypeHandler(Update, heard), group=-1)
    while True:
        try:
            await application.initialize()
            break
        except InvalidToken as exc:
            raise refused(config, exc) from exc
        except NetworkError as exc:
            trouble.failed(exc)
            try:
                await asyncio.wait_for(stop.wait(), retry_s)
                return
            except TimeoutError:
                continue
    trouble.answered()
    try:
        await application.post_init(application)
        # getUpdates deletes nothing: a webhook left set makes Telegram refuse it, so drop it first
        await application.bot.delete_webhook(drop_pending_updates=False)
        await application.updater.start_polling(allowed_updates=["message", "callback_query"],
                                                error_callback=trouble.failed)
        await application.start()
        announce(f"coordinator bot @{application.bot.username}: polling {config.telegram_api_base} for "
                 f"messages (long polling; no port to open); Ctrl-C stops")
        await stop.wait()
        quiet = _LastPollQuiet()
        updater_log = logging.getLogger("telegram.ext.Updater")
        updater_log.addFilter(quiet)
        try:
            await application.updater.stop()
        finally:
            updater_log.removeFilter(quiet)
        await application.stop()
    finally:
        await application.shutdown()


def run_polling(services: Services, announce=log.info) -> None:
    """`tikabot bot`: polls until SIGINT or SIGTERM."""
    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await poll(services, stop, announce=announce)

    asyncio.run(main())


LOOPBACK = "127.0.0.1"  # behind the TLS proxy Telegram calls; --host to listen elsewhere


async def serve_webhook(services: Services, webhook_url: str, port: int, host: str = LOOPBACK,
                        stop: asyncio.Event | None = None, announce=log.info) -> None:
    config = services.config
    check(config, webhook_url)
    application = build_application(BotDeps(services), config.telegram_bot_token, config.telegram_api_base,
                                     updater=False)
    stop = stop or asyncio.Event()
    runner = web.AppRunner(make_webhook_app(application, config.telegram_webhook_secret,
                                            urlsplit(webhook_url).path), access_log=None)
    try:
        await application.initialize()  # getMe: a token Telegram refuses is a configuration error
    except InvalidToken as exc:
        raise refused(config, exc) from exc
    async with application:  # already initialized; shuts it down on the way out
        await application.post_init(application)
        await application.start()
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        await application.bot.set_webhook(webhook_url, secret_token=config.telegram_webhook_secret,
                                          allowed_updates=["message", "callback_query"])
        announce(f"coordinator bot @{application.bot.username}: listening on {host}:{port} for the "
                 f"webhook Telegram calls at {webhook_url}; Ctrl-C stops")
        await stop.wait()
        await runner.cleanup()
        await application.stop()


def run_webhook(services: Services, webhook_url: str, port: int, host: str = LOOPBACK, announce=log.info) -> None:
    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve_webhook(services, webhook_url, port, host=host, stop=stop, announce=announce)

    asyncio.run(main())
