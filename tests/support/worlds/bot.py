"""Names the bot tests share: the bot's token, a coordinator, a stranger, and Telegram updates."""
from __future__ import annotations

import time

from sqlalchemy import select

from tikabot.store.models import OutboundMessage

TOKEN = "424242:coordinator-bot-token"
COORDINATOR_ID = 111
STRANGER_ID = 999


def message_update(user_id: int, text: str, chat: dict | None = None) -> dict:
    """A message Update as Telegram sends it, in the user's private chat unless `chat` names
    another (a group); a leading /command is marked as one."""
    user = {"id": user_id, "is_bot": False, "first_name": "Asha"}
    message = {"message_id": int(time.monotonic_ns() % 1_000_000_000), "date": int(time.time()),
               "chat": chat or {"id": user_id, "type": "private", "first_name": "Asha"}, "from": user, "text": text}
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"message": message}


def outbox(services, template: str | None = None, recipient: str | None = None) -> list[OutboundMessage]:
    """Messages in the outbox, in order: of one template, to one recipient, or both."""
    with services.sessions() as s:
        query = select(OutboundMessage).order_by(OutboundMessage.id)
        if template:
            query = query.where(OutboundMessage.template == template)
        if recipient:
            query = query.where(OutboundMessage.recipient == recipient)
        return list(s.scalars(query))
