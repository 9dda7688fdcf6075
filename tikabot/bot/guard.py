"""The access check every handler goes through, and the reply helpers they share."""
from __future__ import annotations

import functools
import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from tikabot.bot import access
from tikabot.bot.deps import BotDeps
from tikabot.bot.render import DEFAULT_LANGUAGE, LANGUAGES, language_of, refusal
from tikabot.i18n.catalog import render

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
        lang = await deps.db(lambda s: refusal_language(access.anyone(s, user_id), user))
        log.info("refused telegram user %s", user_id)
        if update.callback_query:
            await update.callback_query.answer()
        if first and update.effective_chat:
            await context.bot.send_message(update.effective_chat.id, refusal(lang))
    return guarded


def refusal_language(known, user) -> str:
    """A refused user's language: their staff record's, else their Telegram app's (bn, hi), else English."""
    if known is not None:
        return language_of(known)
    telegram_lang = (getattr(user, "language_code", None) or "").split("-")[0].lower()
    return telegram_lang if telegram_lang in LANGUAGES else DEFAULT_LANGUAGE


def pager(kind: str, page: int, pages: int, lang: str = DEFAULT_LANGUAGE) -> InlineKeyboardMarkup | None:
    """Prev/next buttons; callback data like "pg:status:2" (well under Telegram's 64 bytes)."""
    if pages <= 1:
        return None
    buttons = []
    if page > 1:
        buttons.append(InlineKeyboardButton(render("bot.button_prev", lang), callback_data=f"pg:{kind}:{page - 1}"))
    if page < pages:
        buttons.append(InlineKeyboardButton(render("bot.button_next", lang), callback_data=f"pg:{kind}:{page + 1}"))
    return InlineKeyboardMarkup([buttons])


async def reply(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    await update.effective_message.reply_text(text, reply_markup=markup)
