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


async def receive(request: web.Request) -> web.Response:
    given = request.headers.get(SECRET_HEADER, "")
    if not hmac.compare_digest(given.encode(), request.app[SECRET].encode()):
        log.warning("webhook call without the right secret token refused")
        return web.Response(status=403, text="forbidden")
    try:
        data = json.loads(await request.read())
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            raise ValueError("not an object with an update_id")
        update = Update.de_json(data, request.app[APPLICATION].bot)
    except Exception:  # noqa: BLE001 (whatever the JSON holds, the caller gets a 400, not a trace)
        return web.Response(status=400, text="not a Telegram update")
    await request.app[APPLICATION].update_queue.put(update)
    return web.Response(status=200)
