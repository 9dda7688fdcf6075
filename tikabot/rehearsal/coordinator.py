"""A coordinator's commands to the Telegram bot, through the simulator's Bot API, and the answers.

Alerts go to the same chat, so an answer is recognised by what it is, not by where it went: each
command's reply has its own method and opening words.
"""
from __future__ import annotations

import time

import requests

ANSWERS = {  # command -> (Bot API method of its answer, the answer's first words or None)
    "/status": ("sendMessage", "Status "),
    "/failed": ("sendMessage", "Failed messages, last 24 hours"),
    "/pending": ("sendMessage", "Dose records not yet synced upstream"),
    "/chart": ("sendPhoto", None),
    "/export": ("sendDocument", None),
}


def _answers(calls: list[dict], chat_id: int, command: str) -> bool:
    method, opening = ANSWERS[command]
    return any(c["method"] == method and str(c["params"].get("chat_id")) == str(chat_id)
               and (opening is None or str(c["params"].get("text", "")).startswith(opening)) for c in calls)


def ask_coordinator_commands(sim_url: str, telegram_user_id: int, timeout_s: float = 60.0) -> dict:
    """Send each command as the coordinator; return how many of them the bot answered."""
    http = requests.Session()
    try:
        before = len(http.get(f"{sim_url}/_sim/telegram", timeout=10).json())
        for command in ANSWERS:
            http.post(f"{sim_url}/_sim/telegram/updates", timeout=10,
                      json={"chat_id": telegram_user_id, "from_id": telegram_user_id, "text": command})
        deadline = time.monotonic() + timeout_s
        answered = 0
        while time.monotonic() < deadline:
            calls = http.get(f"{sim_url}/_sim/telegram", timeout=10).json()[before:]
            answered = sum(1 for command in ANSWERS if _answers(calls, telegram_user_id, command))
            if answered == len(ANSWERS):
                break
            time.sleep(0.5)
        return {"commands": len(ANSWERS), "answered": answered}
    finally:
        http.close()
