"""Control endpoints under ``/_sim/`` for tests and rehearsals in other processes."""

from __future__ import annotations

from aiohttp import web

from tikabot.simulator.appkeys import SIM
from tikabot.simulator.sent import sent_sms


def add_routes(app: web.Application) -> None:
    router = app.router
    router.add_get("/_sim/health", health)
    router.add_get("/_sim/messages", messages)
    router.add_get("/_sim/sms", sms)
    router.add_get("/_sim/calls", calls)
    router.add_get("/_sim/telegram", telegram)
    router.add_get("/_sim/callbacks", callbacks)
    router.add_get("/_sim/stats", stats)
    router.add_get("/_sim/config", get_config)
    router.add_post("/_sim/config", set_config)
    router.add_post("/_sim/reset", reset)
    router.add_post("/_sim/telegram/updates", inject_update)


async def _json_body(request: web.Request) -> dict:
    if not request.body_exists:
        return {}
    body = await request.json()
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="expected a JSON object")
    return body


async def health(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


async def messages(request: web.Request) -> web.Response:
    return web.json_response(request.app[SIM].messages(to=request.query.get("to")))


async def sms(request: web.Request) -> web.Response:
    """Every provider's SMS in one shape (simulator/sent.py); ?to= one phone's."""
    return web.json_response(sent_sms(request.app[SIM], to=request.query.get("to")))


async def calls(request: web.Request) -> web.Response:
    return web.json_response(request.app[SIM].calls())


async def telegram(request: web.Request) -> web.Response:
    return web.json_response(request.app[SIM].telegram_calls(request.query.get("method")))


async def callbacks(request: web.Request) -> web.Response:
    return web.json_response(request.app[SIM].callback_log())


async def stats(request: web.Request) -> web.Response:
    return web.json_response(request.app[SIM].stats())


async def get_config(request: web.Request) -> web.Response:
    return web.json_response(request.app[SIM].config.to_dict())


async def set_config(request: web.Request) -> web.Response:
    """Partial update, e.g. ``{"rate_429": 0.1}`` or ``{"fail_rate": 0.05}``."""
    try:
        config = request.app[SIM].configure(**await _json_body(request))
    except (KeyError, TypeError) as exc:
        return web.json_response({"error": str(exc)}, status=400)
    return web.json_response(config.to_dict())


async def reset(request: web.Request) -> web.Response:
    body = await _json_body(request)
    request.app[SIM].reset(config=bool(body.get("config")))
    return web.json_response({"ok": True})


async def inject_update(request: web.Request) -> web.Response:
    update = request.app[SIM].inject_update(await _json_body(request))
    return web.json_response(update)
