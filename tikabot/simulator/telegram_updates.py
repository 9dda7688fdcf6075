"""Telegram updates: a queue for getUpdates long-polls, or pushes to a set webhook."""

from __future__ import annotations

import asyncio
import time
from typing import Optional

import aiohttp

WEBHOOK_RETRIES = 3


def shorthand_update(data: dict, update_id: int) -> dict:
    """Turn ``{"chat_id", "text", "from_id"?, "first_name"?}`` into a message Update."""
    chat_id = int(data.get("chat_id", 1))
    user = {"id": int(data.get("from_id", chat_id)), "is_bot": False,
            "first_name": data.get("first_name", "Tester")}
    chat = {"id": chat_id, "type": "private" if chat_id > 0 else "group"}
    if chat_id > 0:
        chat["first_name"] = user["first_name"]
    else:
        chat["title"] = data.get("title", "Group")
    text = data.get("text", "")
    message = {"message_id": update_id, "date": int(time.time()), "chat": chat, "from": user, "text": text}
    if text.startswith("/") and len(text.split()[0]) > 1:  # as Telegram marks a command it receives
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": update_id, "message": message}


class TelegramState:
    def __init__(self, sim) -> None:
        self.sim = sim
        self.tasks: set[asyncio.Task] = set()
        self.reset()

    def reset(self) -> None:
        self.pending: list[dict] = []
        self.next_update_id = 1
        self.next_message_id = 1
        self.webhook: Optional[dict] = None
        self.commands: list = []
        self.commands_by_language: dict[str, list] = {}
        self._changed = asyncio.Event()

    def message_id(self) -> int:
        self.next_message_id += 1
        return self.next_message_id - 1

    def add_update(self, data: dict) -> dict:
        """Queue (or push) an update; runs on the server loop."""
        if "update_id" in data:
            update = dict(data)
        elif "chat_id" in data or "text" in data:
            update = shorthand_update(data, self.next_update_id)
        else:
            update = {"update_id": self.next_update_id, **data}
        self.next_update_id = max(self.next_update_id, int(update["update_id"])) + 1
        if self.webhook:
            self._spawn(self._push(update, dict(self.webhook)))
        else:
            self.pending.append(update)
            self.wake()
        return update

    def wake(self) -> None:
        """Every waiting long poll looks again (an outage began: it answers at once)."""
        self._changed.set()
        self._changed = asyncio.Event()

    def confirm(self, offset: Optional[int]) -> None:
        if offset is not None:
            self.pending = [u for u in self.pending if u["update_id"] >= offset]

    async def get_updates(self, offset: Optional[int], limit: int, timeout: float) -> list[dict]:
        self.confirm(offset)
        deadline = time.monotonic() + max(timeout, 0)
        while True:
            if self.pending:
                return self.pending[:limit]
            if self.sim.config.telegram_down:
                return []
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except asyncio.TimeoutError:
                return []

    def _spawn(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _push(self, update: dict, webhook: dict) -> None:
        headers = {}
        if webhook.get("secret_token"):
            headers["X-Telegram-Bot-Api-Secret-Token"] = webhook["secret_token"]
        for attempt in range(WEBHOOK_RETRIES):
            try:
                async with self.sim.http.post(webhook["url"], json=update, headers=headers) as response:
                    await response.read()
                    if response.status < 300:
                        self.sim.records.count("webhook_ok")
                        return
            except (aiohttp.ClientError, asyncio.TimeoutError):
                pass
            await asyncio.sleep(0.2 * (attempt + 1))
        self.sim.records.count("webhook_dropped")

    async def cancel_all(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
