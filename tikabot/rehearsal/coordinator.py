"""A coordinator's commands to the Telegram bot, through the simulator's Bot API, and the answers."""
from __future__ import annotations

import time

import requests

COMMANDS = ("/status", "/failed", "/pending", "/chart", "/export")
REPLY_METHODS = ("sendMessage", "sendPhoto", "sendDocument")


def ask_coordinator_commands(sim_url: str, telegram_user_id: int, timeout_s: float = 60.0) -> dict:
    """Send each command as the coordinator; return how many the bot answered in that chat."""
    http = requests.Session()
    try:
        for command in COMMANDS:
            http.post(f"{sim_url}/_sim/telegram/updates", timeout=10,
                      json={"chat_id": telegram_user_id, "from_id": telegram_user_id, "text": command})
        deadline = time.monotonic() + timeout_s
        answered = 0
        while time.monotonic() < deadline:
            calls = http.get(f"{sim_url}/_sim/telegram", timeout=10).json()
            answered = sum(1 for c in calls if c["method"] in REPLY_METHODS
                           and str(c["params"].get("chat_id")) == str(telegram_user_id))
            if answered >= len(COMMANDS):
                break
            time.sleep(0.5)
        return {"commands": len(COMMANDS), "answered": min(answered, len(COMMANDS))}
    finally:
        http.close()
