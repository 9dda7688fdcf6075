"""The access check every handler goes through, and the reply helpers they share."""
from __future__ import annotations

import functools
import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from tikabot.bot import access
from tikabot.bot.deps import BotDeps
from tikabot.bot.render import REFUSAL

log = logging.getLogger(__name__)


def deps_of(context: ContextTypes.DEFAULT_TYPE) -> BotDeps:
    return context.application.bot_data["deps"]


def coordinators_only(handler):
    """Run handler(update, context, deps, staff) for coordinators; refuse and audit everyone else."""
    @functools.wraps(handler)
    async def guarded(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        deps = deps_of(context)
        user = update.effective_user
        user_id = user.id if user else None
        staff = await deps.db(lambda s: access.coordinator(s, user_id))
        if staff is not None:
            await handler(update, context, deps, staff)
            return
        text = update.effective_message.text if update.effective_message else ""
        first = await deps.db(lambda s: access.record_refusal(s, user_id, text or ""))
        log.info("refused telegram user %s", user_id)
        if update.callback_query:
            await update.callback_query.answer()
        if first and update.effective_chat:
            await context.bot.send_message(update.effective_chat.id, REFUSAL)
    return guarded


def pager(kind: str, page: int, pages: int) -> InlineKeyboardMarkup | None:
    """Prev/next buttons; callback data like "pg:status:2" (well under Telegram's 64 bytes)."""
    if pages <= 1:
        return None
    buttons = []
    if page > 1:
        buttons.append(InlineKeyboardButton("< Prev", callback_data=f"pg:{kind}:{page - 1}"))
    if page < pages:
        buttons.append(InlineKeyboardButton("Next >", callback_data=f"pg:{kind}:{page + 1}"))
    return InlineKeyboardMarkup([buttons])


async def reply(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    await update.effective_message.reply_text(text, reply_markup=markup)
