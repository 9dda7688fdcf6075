"""A subset of the Telegram Bot API at ``/bot{token}/{method}``."""

from __future__ import annotations

import json
import re
import time
import zlib
from typing import Any

from aiohttp import web

from tikabot.simulator.appkeys import SIM

INT_PARAMS = frozenset({"chat_id", "message_id", "offset", "limit", "timeout", "user_id",
                        "from_chat_id", "reply_to_message_id", "message_thread_id"})
RATE_LIMITED_PREFIXES = ("send", "edit", "answer", "copy", "forward")
TOKEN_SHAPE = re.compile(r"^[0-9]+:[A-Za-z0-9_-]+$")  # the bot's id, a colon, the secret


def add_routes(app: web.Application) -> None:
    app.router.add_route("*", "/bot{token}/{method}", bot_method)


def ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


BAD_GATEWAY_PAGE = ("<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
                    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")


CONFLICT = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"


def outage(config, method: str) -> web.Response | None:
    """Telegram's front answering for servers that are out (config.telegram_down: "502"), Telegram
    refusing a token revoked in @BotFather ("401"), another process polling with the same token
    ("409": Telegram refuses getUpdates alone, with its words), else None."""
    if config.telegram_down is None:
        return None
    if config.telegram_down == "401":
        return failure(401, "Unauthorized")
    if config.telegram_down == "409":
        return failure(409, CONFLICT) if method.lower() == "getupdates" else None
    return web.Response(status=502, text=BAD_GATEWAY_PAGE, content_type="text/html")


def failure(status: int, description: str, **parameters: Any) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)


def _decode(name: str, value: str) -> Any:
    if value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    if name in INT_PARAMS and value.lstrip("-").isdigit():
        return int(value)
    return value


async def read_params(request: web.Request) -> tuple[dict, dict]:
    """Parameters (JSON values decoded) and uploaded files by part name."""
    params: dict[str, Any] = {k: _decode(k, v) for k, v in request.query.items()}
    files: dict[str, dict] = {}
    if request.content_type == "application/json":
        params.update(await request.json())
    elif request.body_exists:
        for name, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                size = len(value.file.read())
                files[name] = {"filename": value.filename, "content_type": value.content_type,
                               "size": size}
            else:
                params[name] = _decode(name, value)
    return params, files


def bot_user(token: str) -> dict:
    head = token.split(":", 1)[0]
    return {"id": int(head) if head.isdigit() else 1000, "is_bot": True,
            "first_name": "TikaBot Simulator", "username": "tikabot_sim_bot",
            "can_join_groups": True, "can_read_all_group_messages": False,
            "supports_inline_queries": False}


def chat(chat_id: Any) -> dict:
    if isinstance(chat_id, str) and chat_id.startswith("@"):
        return {"id": -1000000000000 - zlib.crc32(chat_id.encode()), "type": "channel",
                "title": chat_id[1:], "username": chat_id[1:]}
    chat_id = int(chat_id)
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": "User"}
    kind = "supergroup" if str(chat_id).startswith("-100") else "group"
    return {"id": chat_id, "type": kind, "title": "Group"}


def file_for(name: str, params: dict, files: dict) -> dict:
    """The uploaded part for parameter ``name`` (direct or attach://), else a file id."""
    value = params.get(name)
    if isinstance(value, str) and value.startswith("attach://"):
        upload = files.get(value[len("attach://"):])
    else:
        upload = files.get(name)
    file_id = f"sim-{name}-{zlib.crc32(repr(upload or value).encode()):08x}"
    info = {"file_id": file_id, "file_unique_id": file_id[-8:]}
    if upload:
        info.update(file_size=upload["size"], file_name=upload["filename"],
                    mime_type=upload["content_type"])
    return info


def message(sim, token: str, params: dict, **content: Any) -> dict:
    msg = {"message_id": sim.telegram.message_id(), "date": int(time.time()),
           "chat": chat(params.get("chat_id", 1)), "from": bot_user(token)}
    for key in ("caption", "reply_markup"):
        if key in params:
            msg[key] = params[key]
    msg.update(content)
    return msg


async def bot_method(request: web.Request) -> web.Response:
    sim = request.app[SIM]
    token, method = request.match_info["token"], request.match_info["method"]
    params, files = await read_params(request)
    sim.records.add_telegram({"method": method, "token": token, "params": params,
                              "files": files, "at": time.time()})
    config = sim.config
    if (down := outage(config, method)) is not None:
        return down
    if not TOKEN_SHAPE.match(token):  # Telegram's answer to a token not shaped like one
        return failure(404, "Not Found")
    if config.telegram_token is not None and token != config.telegram_token:
        return failure(401, "Unauthorized")
    if method.lower().startswith(RATE_LIMITED_PREFIXES) and sim.faults.telegram_429(config):
        sim.records.count("telegram_429")
        retry = config.telegram_retry_after
        return failure(429, f"Too Many Requests: retry after {retry}", retry_after=retry)
    handler = METHODS.get(method.lower())
    if handler is None:
        return ok(True)
    answer = await handler(sim, token, params, files)
    # an outage that began while a long poll waited cuts it off: its updates stay queued, unconfirmed
    down = outage(sim.config, method)
    return answer if down is None else down


async def get_me(sim, token, params, files):
    return ok(bot_user(token))


async def send_message(sim, token, params, files):
    text = str(params.get("text", ""))
    if not text:
        return failure(400, "Bad Request: message text is empty")
    return ok(message(sim, token, params, text=text))


async def send_photo(sim, token, params, files):
    photo = file_for("photo", params, files)
    sizes = [{**photo, "width": w, "height": w} for w in (90, 320)]
    return ok(message(sim, token, params, photo=sizes))


async def send_document(sim, token, params, files):
    return ok(message(sim, token, params, document=file_for("document", params, files)))


async def get_updates(sim, token, params, files):
    if sim.telegram.webhook:
        return failure(409, "Conflict: can't use getUpdates method while webhook is active; "
                            "use deleteWebhook to delete the webhook first")
    limit = min(max(int(params.get("limit", 100)), 1), 100)
    updates = await sim.telegram.get_updates(params.get("offset"), limit,
                                             float(params.get("timeout", 0)))
    return ok(updates)


async def set_webhook(sim, token, params, files):
    sim.telegram.webhook = {"url": params.get("url", ""),
                            "secret_token": params.get("secret_token")}
    if not sim.telegram.webhook["url"]:
        sim.telegram.webhook = None
    return ok(True)


async def delete_webhook(sim, token, params, files):
    sim.telegram.webhook = None
    if str(params.get("drop_pending_updates", "")).lower() == "true":
        sim.telegram.pending = []
    return ok(True)


async def get_webhook_info(sim, token, params, files):
    webhook = sim.telegram.webhook or {}
    return ok({"url": webhook.get("url", ""), "has_custom_certificate": False,
               "pending_update_count": len(sim.telegram.pending)})


async def edit_message_text(sim, token, params, files):
    if "inline_message_id" in params:
        return ok(True)
    msg = message(sim, token, params, text=str(params.get("text", "")),
                  edit_date=int(time.time()))
    msg["message_id"] = params.get("message_id", msg["message_id"])
    return ok(msg)


async def set_my_commands(sim, token, params, files):
    """The command menu; with language_code, the menu for users whose Telegram app is in it."""
    language = params.get("language_code") or ""
    if language:
        sim.telegram.commands_by_language[language] = params.get("commands", [])
    else:
        sim.telegram.commands = params.get("commands", [])
    return ok(True)


async def get_my_commands(sim, token, params, files):
    language = params.get("language_code") or ""
    return ok(sim.telegram.commands_by_language.get(language, sim.telegram.commands))


METHODS = {
    "getme": get_me,
    "sendmessage": send_message,
    "sendphoto": send_photo,
    "senddocument": send_document,
    "getupdates": get_updates,
    "setwebhook": set_webhook,
    "deletewebhook": delete_webhook,
    "getwebhookinfo": get_webhook_info,
    "editmessagetext": edit_message_text,
    "setmycommands": set_my_commands,
    "getmycommands": get_my_commands,
}
