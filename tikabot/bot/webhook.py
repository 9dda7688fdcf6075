"""Webhook mode: a small aiohttp server that takes Telegram's updates for the Application.

Telegram sends the secret we registered (setWebhook secret_token) in X-Telegram-Bot-Api-Secret-Token;
anything without the right value gets 403 and is never processed. The comparison is constant-time.
"""
from __future__ import annotations

import hmac
import json
import logging

from aiohttp import web
from telegram import Update
from telegram.ext import Application

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
APPLICATION = web.AppKey("application", Application)
SECRET = web.AppKey("secret", str)

log = logging.getLogger(__name__)


def make_webhook_app(application: Application, secret: str, path: str) -> web.Application:
    app = web.Application(client_max_size=1024 * 1024)
    app[APPLICATION], app[SECRET] = application, secret
    app.router.add_post(path or "/", receive)
    return app


class NotAnUpdate(ValueError):
    pass


def read_update(raw: bytes, bot) -> Update:
    """A webhook body as a Telegram Update; NotAnUpdate for anything else, whatever the JSON holds."""
    try:
        data = json.loads(raw)
        if not isinstance(data, dict) or type(data.get("update_id")) is not int:
            raise ValueError("not an object with an update_id")
        return Update.de_json(data, bot)
    except Exception as exc:  # noqa: BLE001 (python-telegram-bot raises many kinds on odd shapes)
        raise NotAnUpdate(str(exc)[:80]) from exc


async def receive(request: web.Request) -> web.Response:
    given = request.headers.get(SECRET_HEADER, "")  # bytes that are not UTF-8 come as lone surrogates
    if not hmac.compare_digest(given.encode("utf-8", "surrogateescape"), request.app[SECRET].encode()):
        log.warning("webhook call without the right secret token refused")
        return web.Response(status=403, text="forbidden")
    try:
        update = read_update(await request.read(), request.app[APPLICATION].bot)
    except NotAnUpdate:
        return web.Response(status=400, text="not a Telegram update")
    await request.app[APPLICATION].update_queue.put(update)
    return web.Response(status=200)
