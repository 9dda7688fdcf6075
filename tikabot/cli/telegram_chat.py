"""`tikabot phone --telegram USER_ID`: be a coordinator's Telegram app against the bot `tikabot up`
runs on the simulator (no BotFather, no token, no internet).

Each line typed goes to the simulator as a private message from that Telegram user (the update the
real Bot API would hand the bot); what the bot sends to that chat is printed, buttons included.
"""
from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request

import click

REPLY_METHODS = ("sendMessage", "sendPhoto", "sendDocument", "editMessageText")
WAIT_S = 10.0
QUIET_S = 0.8  # after a reply, more of the same answer (a chart after its text) arrives within this
POLL_S = 0.2


def _call(url: str, body: dict | None = None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())
    except OSError as exc:
        raise click.ClickException(f"the simulator at {url.split('/_sim')[0]} does not answer ({exc}): "
                                   "is tikabot up still running?") from exc


def replies(sim: str, user_id: int) -> list[dict]:
    return [c for c in _call(f"{sim}/_sim/telegram")
            if c["method"] in REPLY_METHODS and str(c["params"].get("chat_id")) == str(user_id)]


def shown(call: dict) -> str:
    params = call["params"]
    text = params.get("text") or params.get("caption") or f"[{call['method'][4:].lower()}]"
    markup = params.get("reply_markup")
    if isinstance(markup, str):
        try:
            markup = json.loads(markup)
        except ValueError:
            markup = None
    buttons = [b.get("text", "") for row in (markup or {}).get("inline_keyboard", []) for b in row]
    return f"bot: {text}" + (f"\n     buttons: {' | '.join(buttons)}" if buttons else "")


def run(user_id: int, sim: str | None, out=None) -> int:
    out = out or sys.stdout
    if not sim:
        raise click.ClickException("--telegram talks to the bot on the simulator: start tikabot up without "
                                   "TELEGRAM_BOT_TOKEN (it runs the bot there), or name it with --sim")
    seen = len(replies(sim, user_id))
    click.echo(f"tikabot phone --telegram {user_id}: a private chat with the coordinator bot on {sim}. "
               "Type /start or /status; Ctrl-D to stop.", file=out)
    while True:
        line = sys.stdin.readline()
        if not line:
            return 0
        text = line.strip()
        if not text:
            continue
        _call(f"{sim}/_sim/telegram/updates", {"chat_id": user_id, "from_id": user_id, "text": text})
        deadline, last = time.monotonic() + WAIT_S, None
        while time.monotonic() < deadline and (last is None or time.monotonic() - last < QUIET_S):
            found = replies(sim, user_id)
            for call in found[seen:]:
                click.echo(shown(call), file=out)
                last = time.monotonic()
            seen = len(found)
            time.sleep(POLL_S)
        if last is None:
            click.echo("(no answer: is the bot running? tikabot up starts it when TELEGRAM_BOT_TOKEN is unset)",
                       file=out)
        out.flush()
