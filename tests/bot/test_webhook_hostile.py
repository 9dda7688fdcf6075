"""The bot's own webhook server (webhook mode), sent what no provider would send: a secret header
that is not UTF-8, 20,000 levels of nesting, a lone surrogate. Each gets a 4xx, never a 500."""
from __future__ import annotations

import asyncio

from aiohttp import web
from telegram.ext import Application

from tikabot.bot.webhook import SECRET_HEADER, make_webhook_app

SECRET = "test-telegram-secret"


async def _answers(requests: list[tuple[bytes, bytes]]) -> list[int]:
    application = Application.builder().token("123456:TEST").build()
    runner = web.AppRunner(make_webhook_app(application, SECRET, "/telegram"))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    statuses = []
    try:
        for secret, body in requests:  # raw HTTP: a client library would refuse to send such a header
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"POST /telegram HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n"
                         + SECRET_HEADER.encode() + b": " + secret + b"\r\n"
                         + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
            await writer.drain()
            statuses.append(int((await reader.readline()).split()[1]))
            writer.close()
    finally:
        await runner.cleanup()
    return statuses


def test_hostile_webhook_requests_get_a_4xx_not_a_server_error():
    good = SECRET.encode()
    statuses = asyncio.run(_answers([
        (b"\xff\xfe", b'{"update_id": 1}'),                          # a secret that is not UTF-8
        (good, b"[" * 20000 + b"]" * 20000),                        # nesting
        (good, b'{"update_id": 2, "message": "\\ud800"}'),          # a lone surrogate
        (good, b'{"update_id": ' + b"9" * 5000 + b"}"),             # a 5,000-digit number
    ]))
    assert statuses == [403, 400, 400, 400]
