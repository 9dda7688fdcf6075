"""The access check every handler goes through (who, in which chat, over which sites), and the
reply helpers they share."""
from __future__ import annotations

import functools
import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from tikabot.bot import access
from tikabot.bot.deps import BotDeps
from tikabot.bot.render import DEFAULT_LANGUAGE, LANGUAGES, language_of, refusal
from tikabot.i18n.catalog import render
from tikabot.store.scope import scope_of

log = logging.getLogger(__name__)


def deps_of(context: ContextTypes.DEFAULT_TYPE) -> BotDeps:
    return context.application.bot_data["deps"]


PRIVATE = "private"


def coordinators_only(handler=None, *, needs_sites: bool = True, answer_strangers: bool = False):
    """Run handler(update, context, deps, staff, scope) for coordinators in a private chat with the
    bot; refuse and audit everyone else. A channel post is ignored; in a group a command is answered
    only with "send it in a private chat" (a group's members are not all coordinators, and replies
    name people, refs and phone numbers). A coordinator whose scope holds no site is told so, except
    for handlers marked needs_sites=False (help).

    A stranger is answered once, with their Telegram user id, and then audited quietly; a handler
    marked answer_strangers=True (/start, what a newcomer sends first) tells them every time."""
    if handler is None:
        return functools.partial(coordinators_only, needs_sites=needs_sites, answer_strangers=answer_strangers)

    @functools.wraps(handler)
    async def guarded(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        if update.channel_post or update.edited_channel_post or (chat and chat.type == "channel"):
            return
        if chat is not None and chat.type != PRIVATE:
            await _private_only(update)
            return
        deps = deps_of(context)
        user = update.effective_user
        user_id = user.id if user else None
        found = await deps.db(lambda s: _coordinator_and_scope(s, user_id))
        if found is not None:
            staff, where = found
            if where.empty and needs_sites:
                if update.callback_query:
                    await update.callback_query.answer()
                await context.bot.send_message(chat.id, render("bot.no_scope", language_of(staff)))
                return
            await handler(update, context, deps, staff, where)
            return
        text = update.effective_message.text if update.effective_message else ""
        first = await deps.db(lambda s: access.record_refusal(s, user_id, text or ""))
        lang = await deps.db(lambda s: refusal_language(access.anyone(s, user_id), user))
        log.info("refused telegram user %s", user_id)
        if update.callback_query:
            await update.callback_query.answer()
        if (first or answer_strangers) and update.effective_chat:
            await context.bot.send_message(update.effective_chat.id, refusal(lang, user_id))
    return guarded


def _coordinator_and_scope(session, user_id):
    staff = access.coordinator(session, user_id)
    return None if staff is None else (staff, scope_of(session, staff))


async def _private_only(update: Update) -> None:
    """A command (or a button) in a group: point to the private chat, with no data and no lookup;
    anything else said in the group is none of the bot's business."""
    lang = refusal_language(None, update.effective_user)
    if update.callback_query:
        await update.callback_query.answer(render("bot.private_only", lang), show_alert=True)
        return
    message = update.effective_message
    if message is not None and (message.text or "").startswith("/"):
        await message.reply_text(render("bot.private_only", lang))


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
