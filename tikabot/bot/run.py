"""`tikabot bot`: the coordinator bot in its own process, by long polling or by webhook."""
from __future__ import annotations

import asyncio
import logging
import re
import signal
from urllib.parse import urlsplit

from aiohttp import web
from telegram.error import Conflict, InvalidToken, NetworkError, TelegramError

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
    """Telegram not answering (the network, its front answering 502 with a web page, a proxy, the
    simulator stopped): said once in the log, one line with no traceback, while python-telegram-bot
    keeps retrying; said again once, when a poll is answered."""

    def __init__(self, api_base: str, token: str | None = None):
        self.api_base = api_base
        self.token = token
        self.down = False
        self.refused_with: int | None = None  # Telegram refused the token while polling (401, 404)
        self.gone = asyncio.Event()

    def refused(self, code: int) -> None:
        self.refused_with = code
        self.gone.set()

    def failed(self, exc: Exception) -> None:
        if self.down:
            log.debug("Telegram still not answering: %s", said(exc, self.token))
            return
        self.down = True
        if isinstance(exc, NetworkError):  # TimedOut too: no answer, a connection refused, a 5xx
            log.warning("cannot reach Telegram at %s (%s); the bot keeps trying, quietly, until it answers",
                        self.api_base, said(exc, self.token))
        elif isinstance(exc, Conflict):  # 409: another process polls with this token
            log.warning("Telegram at %s gives this bot's messages to another process polling with the same token "
                        "(409 Conflict): stop the other `tikabot bot` (on another server, or one started by hand); "
                        "this one keeps trying, quietly, until Telegram answers it", self.api_base)
        else:  # another answer refusing the poll
            log.warning("Telegram at %s refuses the bot's polls (%s); the bot keeps trying, quietly, until it "
                        "answers", self.api_base, said(exc, self.token))

    def answered(self) -> None:
        if self.down:
            self.down = False
            log.warning("Telegram at %s answers again", self.api_base)


class _NotJsonQuiet(logging.Filter):
    """python-telegram-bot logs the whole page and a traceback whenever an answer is not JSON (502 from
    Telegram's front during an outage, on every retry of every poll). The error it raises next is
    what counts, and whoever catches it reports it (Unreachable, once): the record is dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith("Can not load invalid JSON data"):
            log.debug("an answer from Telegram that is not JSON (a web page); its error follows")
            return False
        return True


class _RefusedTokenQuiet(logging.Filter):
    """python-telegram-bot logs a traceback when Telegram refuses the token in the middle of polling
    and stops polling; the bot then says it in one line and exits (EX_CONFIG): the record is dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Invalid token. Aborting retry loop" not in record.getMessage()


RETRY_LOOP_LOG = "telegram.ext"  # python-telegram-bot's network retry loop (telegram/ext/_utils/networkloop.py)
REQUEST_LOG = "telegram.request.BaseRequest"  # where python-telegram-bot logs an answer it cannot read


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
POLL_S = 10.0  # how long Telegram holds a poll open when there is nothing new (python-telegram-bot's default)


class _LastPollQuiet(logging.Filter):
    """On the way out, python-telegram-bot asks Telegram once more to mark what it fetched as read,
    and logs a traceback when Telegram is gone (the simulator stops with `tikabot up`): one line
    instead, the updates are simply fetched again at the next start."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and "one more time" in record.getMessage():
            log.info("Telegram did not answer the last poll on the way out; its updates come again at the next start")
            return False
        return True


async def poll(services: Services, stop: asyncio.Event, announce=log.info, retry_s: float = RETRY_S,
               poll_s: float = POLL_S) -> None:
    """Long polling until `stop` is set. Waits for Telegram to answer before it starts (a bot started
    while the network is out comes up when it returns), and reports an outage once, at start or while
    polling, and its end once (Unreachable): no traceback, no web page, on any retry."""
    config = services.config
    check(config, None)
    trouble = Unreachable(config.telegram_api_base, config.telegram_bot_token)
    application = build_application(BotDeps(services), config.telegram_bot_token, config.telegram_api_base,
                                     polls=trouble)
    not_json, refused_quiet = _NotJsonQuiet(), _RefusedTokenQuiet()
    logging.getLogger(REQUEST_LOG).addFilter(not_json)
    logging.getLogger(RETRY_LOOP_LOG).addFilter(refused_quiet)
    try:
        await _poll(application, config, trouble, stop, announce, retry_s, poll_s)
    finally:
        logging.getLogger(REQUEST_LOG).removeFilter(not_json)
        logging.getLogger(RETRY_LOOP_LOG).removeFilter(refused_quiet)


async def _poll(application, config: Config, trouble: Unreachable, stop: asyncio.Event, announce,
                retry_s: float, poll_s: float) -> None:
    while True:
        try:
            await application.initialize()
            await application.post_init(application)
            # getUpdates deletes nothing: a webhook left set makes Telegram refuse it, so drop it first
            await application.bot.delete_webhook(drop_pending_updates=False)
            break
        except InvalidToken as exc:
            raise refused(config, exc) from exc
        except NetworkError as exc:
            trouble.failed(exc)
            try:
                await asyncio.wait_for(stop.wait(), retry_s)
                await application.shutdown()
                return
            except TimeoutError:
                continue
    trouble.answered()
    try:
        # an outage while polling: python-telegram-bot retries, backing off up to 30 s; every failed
        # poll goes to trouble.failed (said once), every answered one to trouble.answered (app.py)
        await application.updater.start_polling(allowed_updates=["message", "callback_query"], timeout=poll_s,
                                                error_callback=trouble.failed)
        await application.start()
        announce(f"coordinator bot @{application.bot.username}: polling {config.telegram_api_base} for "
                 f"messages (long polling; no port to open); Ctrl-C stops")
        waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(trouble.gone.wait())]
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for waiting in waits:
            waiting.cancel()
        quiet = _LastPollQuiet()
        updater_log = logging.getLogger("telegram.ext.Updater")
        updater_log.addFilter(quiet)
        try:
            await application.updater.stop()
        except InvalidToken:  # how its polling ended: Telegram refused the token (trouble.refused_with)
            if trouble.refused_with is None:
                raise
        finally:
            updater_log.removeFilter(quiet)
        await application.stop()
    finally:
        await application.shutdown()
    if trouble.refused_with is not None:
        raise BotConfigError(
            f"Telegram at {config.telegram_api_base} stopped accepting TELEGRAM_BOT_TOKEN while the bot ran "
            f"({trouble.refused_with}: the token was revoked or changed in @BotFather): set the new token, then "
            "start the bot again")


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
    not_json = _NotJsonQuiet()  # a reply sent while Telegram's front answers 502: no page, no traceback
    logging.getLogger(REQUEST_LOG).addFilter(not_json)
    try:
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
    finally:
        logging.getLogger(REQUEST_LOG).removeFilter(not_json)


def run_webhook(services: Services, webhook_url: str, port: int, host: str = LOOPBACK, announce=log.info) -> None:
    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve_webhook(services, webhook_url, port, host=host, stop=stop, announce=announce)

    asyncio.run(main())
