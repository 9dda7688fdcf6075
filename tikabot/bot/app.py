"""The coordinator bot: a python-telegram-bot Application with every command wired in."""
from __future__ import annotations

import logging

from telegram import BotCommand, Update
from telegram.ext import Application, ApplicationBuilder, CallbackQueryHandler, CommandHandler, ContextTypes, \
    MessageHandler, filters

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


def build_application(deps: BotDeps, token: str, api_base: str, updater: bool = True) -> Application:
    base = bot_base_url(api_base)
    builder = (ApplicationBuilder().token(token).base_url(base)
               .base_file_url(base[:-len("/bot")] + "/file/bot").post_init(_announce_commands))
    if not updater:
        builder = builder.updater(None)
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
