"""The coordinator bot: a python-telegram-bot Application with every command wired in."""
from __future__ import annotations

import logging
from typing import Protocol

from telegram import BotCommand, Update
from telegram.error import TimedOut
from telegram.ext import Application, ApplicationBuilder, CallbackQueryHandler, CommandHandler, ContextTypes, \
    MessageHandler, filters
from telegram.request import HTTPXRequest

from tikabot.bot import access, alert_buttons, changes, commands
from tikabot.bot.render import language_of
from tikabot.bot.deps import BotDeps
from tikabot.handlers.telegram import bot_base_url
from tikabot.i18n.catalog import DEFAULT_LANGUAGE, LANGUAGES, render

log = logging.getLogger(__name__)

COMMANDS = (  # name, handler; the menu's description is the catalog's bot.menu_<name>
    ("status", commands.status),
    ("site", commands.site),
    ("manual", changes.manual),
    ("failed", commands.failed),
    ("retry", changes.retry),
    ("broadcast", changes.broadcast),
    ("staff", changes.staff_),
    ("chart", commands.chart),
    ("pending", commands.pending),
    ("export", commands.export),
    ("help", commands.help_),
    ("start", commands.start),
)


class PollWatch(Protocol):
    def failed(self, exc: Exception) -> None: ...

    def answered(self) -> None: ...

    def refused(self, code: int) -> None: ...


REFUSED_TOKEN = (401, 404)  # Telegram's answers to a token it does not know, or not shaped like one


class _WatchedPolls(HTTPXRequest):
    """getUpdates' own connection (python-telegram-bot keeps one for it), as the builder's default
    would make it, telling `watch` what became of each poll: answered (2xx: Telegram is there), or
    not answered in time. A poll that times out is retried without a word to the error callback, so
    an outage in which Telegram never answers is said here; every other failure reaches the callback."""

    def __init__(self, watch: PollWatch):
        super().__init__(connection_pool_size=1)
        self._watch = watch

    async def do_request(self, *args, **kwargs):
        try:
            code, payload = await super().do_request(*args, **kwargs)
        except TimedOut as exc:
            self._watch.failed(exc)
            raise
        if 200 <= code < 300:
            self._watch.answered()
        elif code in REFUSED_TOKEN:  # revoked in @BotFather while the bot ran: polling cannot go on
            self._watch.refused(code)
        return code, payload


def build_application(deps: BotDeps, token: str, api_base: str, updater: bool = True,
                      polls: PollWatch | None = None) -> Application:
    """The bot's Application; `polls` hears of every poll answered or timed out (bot/run.py Unreachable)."""
    base = bot_base_url(api_base)
    builder = (ApplicationBuilder().token(token).base_url(base)
               .base_file_url(base[:-len("/bot")] + "/file/bot").post_init(_announce_commands))
    if not updater:
        builder = builder.updater(None)
    elif polls is not None:
        builder = builder.get_updates_request(_WatchedPolls(polls))
    application = builder.build()
    application.bot_data["deps"] = deps
    for name, handler in COMMANDS:
        application.add_handler(CommandHandler(name, handler))
    application.add_handler(CallbackQueryHandler(commands.turn_page, pattern=r"^pg:"))
    application.add_handler(CallbackQueryHandler(changes.confirm, pattern=r"^bc:"))
    application.add_handler(CallbackQueryHandler(alert_buttons.pressed, pattern=r"^al:"))
    application.add_handler(CallbackQueryHandler(alert_buttons.manual_confirmed, pattern=r"^mm:"))
    application.add_handler(MessageHandler(filters.ALL, commands.unknown))
    application.add_error_handler(_on_error)
    return application


async def _announce_commands(application: Application) -> None:
    """The command menu: English by default, and in Bengali and Hindi for Telegram apps set to them."""
    for lang in LANGUAGES:
        menu = [BotCommand(name, render(f"bot.menu_{name}", lang)) for name, _ in COMMANDS if name != "start"]
        await application.bot.set_my_commands(menu, language_code=None if lang == DEFAULT_LANGUAGE else lang)


async def _language(context: ContextTypes.DEFAULT_TYPE, update: Update) -> str:
    """The language of the staff record behind an update (English when none)."""
    user_id = update.effective_user.id if update.effective_user else None
    try:
        return await context.application.bot_data["deps"].db(
            lambda s: language_of(access.anyone(s, user_id)))
    except Exception:  # the database is what failed: apologise in English
        log.warning("could not read the staff language for the apology")
        return "en"


async def _on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure; the coordinator gets a short apology, never a stack trace."""
    log.error("bot handler failed", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat:
        try:
            lang = await _language(context, update)
            await context.bot.send_message(update.effective_chat.id, render("bot.apology", lang))
        except Exception:  # the Bot API itself is failing: nothing more to tell anyone
            log.warning("could not send the apology either")
