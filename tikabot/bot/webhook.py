"""Webhook mode: a small aiohttp server that takes Telegram's updates for the Application.

Telegram sends the secret we registered (setWebhook secret_token) in X-Telegram-Bot-Api-Secret-Token;
anything without the right value gets 403 and is never processed. The comparison is constant-time.
Telegram delivers an update again when our 200 did not reach it in time: an update_id seen among the
latest SEEN_KEPT is answered 200 and not processed twice (a coordinator's command is answered once).
"""
from __future__ import annotations

import hmac
import json
import logging
from collections import OrderedDict

from aiohttp import web
from telegram import Update
from telegram.ext import Application

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
APPLICATION = web.AppKey("application", Application)
SECRET = web.AppKey("secret", str)
SEEN = web.AppKey("seen", OrderedDict)
SEEN_KEPT = 4096  # update ids remembered: far more than Telegram redelivers (it retries for a while, in order)

log = logging.getLogger(__name__)


def make_webhook_app(application: Application, secret: str, path: str) -> web.Application:
    app = web.Application(client_max_size=1024 * 1024)
    app[APPLICATION], app[SECRET], app[SEEN] = application, secret, OrderedDict()
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
    if not first_time(request.app[SEEN], update.update_id):
        log.info("update %s delivered again by Telegram: already taken", update.update_id)
        return web.Response(status=200)
    await request.app[APPLICATION].update_queue.put(update)
    return web.Response(status=200)


def first_time(seen: OrderedDict, update_id: int) -> bool:
    """Remember the update id; False when it was among the latest SEEN_KEPT already."""
    if update_id in seen:
        return False
    seen[update_id] = None
    if len(seen) > SEEN_KEPT:
        seen.popitem(last=False)
    return True
