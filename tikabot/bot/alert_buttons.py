"""The buttons under an alert (tikabot/alerts/state.py): Acknowledge, /site, manual mode.

Callback data: `al:ack:ID`, `al:site:CODE`, `al:man:CODE` (asks first), `mm:yes:CODE` / `mm:no:CODE`.
"""
from __future__ import annotations

from sqlalchemy import select
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from tikabot.alerts.state import Ack, acknowledge
from tikabot.bot import actions, render
from tikabot.bot.args import whole_number
from tikabot.bot.commands import CODE, site_reply
from tikabot.bot.deps import BotDeps
from tikabot.bot.guard import coordinators_only
from tikabot.i18n.catalog import render as say
from tikabot.store.models import CoordinatorAlert, Site, Staff
from tikabot.store.scope import Scope, in_scope, site_in_scope


def _without_ack(markup) -> InlineKeyboardMarkup | None:
    """The alert's buttons less Acknowledge (done now)."""
    if markup is None:
        return None
    rows = [[b for b in row if not (b.callback_data or "").startswith("al:ack:")] for row in markup.inline_keyboard]
    rows = [row for row in rows if row]
    return InlineKeyboardMarkup(rows) if rows else None


@coordinators_only
async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE, deps: BotDeps, staff: Staff,
                  scope: Scope) -> None:
    query = update.callback_query
    _, action, value = (query.data.split(":", 2) + ["", ""])[:3]
    await query.answer()
    lang = render.language_of(staff)
    if action == "ack" and whole_number(value) is not None:
        await _acknowledge(query, deps, staff, scope, whole_number(value), lang)
    elif action == "site" and CODE.match(value):
        await query.message.reply_text(await site_reply(deps, value.upper(), lang, staff, scope))
    elif action == "man" and CODE.match(value):
        code = value.upper()
        if not await deps.db(lambda s: in_scope(s, code, scope)):
            await query.message.reply_text(say("bot.no_site", lang, code=code))
            return
        buttons = InlineKeyboardMarkup([[
            InlineKeyboardButton(say("bot.button_manual_yes", lang, code=code), callback_data=f"mm:yes:{code}"),
            InlineKeyboardButton(say("bot.button_cancel", lang), callback_data=f"mm:no:{code}")]])
        await query.message.reply_text(say("bot.manual_confirm", lang, code=code), reply_markup=buttons)


async def _acknowledge(query, deps: BotDeps, staff: Staff, scope: Scope, alert_id: int, lang: str) -> None:
    now = deps.now()
    ack = await deps.db(lambda s: acknowledge(s, alert_id, staff, now) if _alert_in_scope(s, alert_id, scope)
                        else Ack("unknown"))
    if ack.outcome == "unknown":
        await query.message.reply_text(say("bot.ack_unknown", lang))
        return
    key = "bot.ack_done" if ack.outcome == "acked" else "bot.ack_already"
    line = say(key, lang, who=ack.by, time=render.local_time(ack.at, deps.tz, lang))
    original = query.message.text or ""
    await query.edit_message_text(f"{original}\n\n{line}"[:render.MAX_TEXT],
                                  reply_markup=_without_ack(query.message.reply_markup))


def _alert_in_scope(session, alert_id: int, scope: Scope) -> bool:
    """Whether a coordinator may acknowledge an alert: one about a site in their scope, or one about
    no site (a route down, an account problem), which went to every district coordinator."""
    alert = session.get(CoordinatorAlert, alert_id)
    if alert is None:
        return True  # acknowledge() answers "unknown"
    if not alert.site_codes:
        return True
    ids = session.scalars(select(Site.id).where(Site.code.in_(alert.site_codes)))
    return scope.covers_any(ids)


@coordinators_only
async def manual_confirmed(update: Update, context: ContextTypes.DEFAULT_TYPE, deps: BotDeps, staff: Staff,
                           scope: Scope) -> None:
    query = update.callback_query
    _, answer, value = (query.data.split(":", 2) + ["", ""])[:3]
    await query.answer()
    lang = render.language_of(staff)
    if not CODE.match(value):
        return
    code = value.upper()
    if answer != "yes":
        await query.edit_message_text(say("bot.manual_unchanged", lang))
        return

    def work(session):
        site = site_in_scope(session, code, scope)
        return None if site is None else actions.set_manual_mode(session, site, True, staff)

    result = await deps.db(work)
    if result is None:
        text = say("bot.no_site", lang, code=code)
    elif not result.changed:
        text = say("bot.manual_already_on", lang, code=code)
    else:
        text = say("bot.manual_on", lang, code=code, count=result.told)
    await query.edit_message_text(text)
