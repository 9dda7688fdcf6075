"""`tikabot bot`: the coordinator bot in its own process, by long polling or by webhook."""
from __future__ import annotations

import asyncio
import logging
import re
import signal
from urllib.parse import urlsplit

from aiohttp import web

from tikabot.bot.app import build_application
from tikabot.bot.deps import BotDeps
from tikabot.bot.webhook import make_webhook_app
from tikabot.services import Services

SECRET_SHAPE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")

log = logging.getLogger(__name__)


class BotConfigError(ValueError):
    pass


def check(services: Services, webhook_url: str | None) -> None:
    config = services.config
    if not config.telegram_bot_token:
        raise BotConfigError("TELEGRAM_BOT_TOKEN is not set: the coordinator bot is disabled")
    if webhook_url is not None:
        if not config.telegram_webhook_secret or not SECRET_SHAPE.match(config.telegram_webhook_secret):
            raise BotConfigError("webhook mode needs TELEGRAM_WEBHOOK_SECRET: 1-256 of A-Z a-z 0-9 _ -")
        if urlsplit(webhook_url).scheme not in ("http", "https"):
            raise BotConfigError(f"--webhook-url must be an http(s) URL, not {webhook_url!r}")


def run_polling(services: Services) -> None:
    check(services, None)
    config = services.config
    application = build_application(BotDeps(services), config.telegram_bot_token, config.telegram_api_base)
    # Deletes any webhook first (getUpdates is refused while one is set); stops on SIGINT/SIGTERM.
    application.run_polling(allowed_updates=["message", "callback_query"], drop_pending_updates=False)


LOOPBACK = "127.0.0.1"  # behind the TLS proxy Telegram calls; --host to listen elsewhere


async def serve_webhook(services: Services, webhook_url: str, port: int, host: str = LOOPBACK,
                        stop: asyncio.Event | None = None) -> None:
    check(services, webhook_url)
    config = services.config
    application = build_application(BotDeps(services), config.telegram_bot_token, config.telegram_api_base,
                                     updater=False)
    stop = stop or asyncio.Event()
    runner = web.AppRunner(make_webhook_app(application, config.telegram_webhook_secret,
                                            urlsplit(webhook_url).path), access_log=None)
    async with application:
        await application.post_init(application)
        await application.start()
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        await application.bot.set_webhook(webhook_url, secret_token=config.telegram_webhook_secret,
                                          allowed_updates=["message", "callback_query"])
        log.info("coordinator bot webhook on %s port %d", host, port)
        await stop.wait()
        await runner.cleanup()
        await application.stop()


def run_webhook(services: Services, webhook_url: str, port: int, host: str = LOOPBACK) -> None:
    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve_webhook(services, webhook_url, port, host=host, stop=stop)

    asyncio.run(main())
