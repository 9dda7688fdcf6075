"""Coordinator commands that change something: /manual, /retry, /broadcast (with a confirm button),
each only over the sites in the coordinator's scope."""
from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from tikabot.bot import actions, delivery, render
from tikabot.bot.args import whole_number
from tikabot.bot.deps import BotDeps
from tikabot.bot.guard import coordinators_only, reply
from tikabot.i18n.catalog import render as say
from tikabot.i18n.encoding import sms_info
from tikabot.core.phones import mask
from tikabot.imports.substitute import ROLES, CannotAdd, add_substitute
from tikabot.store.models import Staff
from tikabot.store.scope import Scope, site_in_scope

SWITCH = {"on": True, "off": False}


@coordinators_only
async def manual(update: Update, context: ContextTypes.DEFAULT_TYPE, deps: BotDeps, staff: Staff,
                 scope: Scope) -> None:
    args, lang = context.args, render.language_of(staff)
    if len(args) != 2 or args[1].lower() not in SWITCH:
        await reply(update, say("bot.manual_usage", lang))
        return
    code, on = args[0].upper(), SWITCH[args[1].lower()]

    def work(session):
        site = site_in_scope(session, code, scope)
        return None if site is None else actions.set_manual_mode(session, site, on, staff)

    result = await deps.db(work)
    if result is None:
        text = say("bot.no_site", lang, code=code)
    elif not result.changed:
        text = say("bot.manual_already_on" if on else "bot.manual_already_off", lang, code=code)
    else:
        text = say("bot.manual_on" if on else "bot.manual_off", lang, code=code, count=result.told)
    await reply(update, text)


@coordinators_only
async def staff_(update: Update, context: ContextTypes.DEFAULT_TYPE, deps: BotDeps, staff: Staff,
                 scope: Scope) -> None:
    """/staff add CODE PHONE NAME [verifier]: a substitute at one of the coordinator's sites, answered
    as staff from their next SMS; audited under the coordinator's Telegram id."""
    args, lang = list(context.args), render.language_of(staff)
    role = "vaccinator"
    if args and args[-1].lower() in ROLES:
        role = args.pop().lower()
    if len(args) < 4 or args[0].lower() != "add":
        await reply(update, say("bot.staff_usage", lang))
        return
    code, phone, name = args[1].upper(), args[2], " ".join(args[3:])
    actor = f"telegram:{staff.telegram_user_id}"

    def work(session):
        site = site_in_scope(session, code, scope)
        return None if site is None else add_substitute(session, phone=phone, name=name, site=site, role=role,
                                                        actor=actor)

    try:
        added = await deps.db(work)
    except CannotAdd as exc:
        await reply(update, say("bot.staff_cannot", lang, reason=exc.text(lang)))
        return
    if added is None:
        await reply(update, say("bot.no_site", lang, code=code))
        return
    key = "bot.staff_already" if added.was == "already" else "bot.staff_added"
    await reply(update, say(key, lang, name=added.name, phone=mask(added.phone), role=say(f"bot.role_{added.role}", lang),
                            code=added.site_code, site=added.site_place))


@coordinators_only
async def retry(update: Update, context: ContextTypes.DEFAULT_TYPE, deps: BotDeps, staff: Staff,
                scope: Scope) -> None:
    args, lang = context.args, render.language_of(staff)
    if len(args) != 1 or not (args[0].lower() == "all" or whole_number(args[0]) is not None):
        await reply(update, say("bot.retry_usage", lang))
        return
    which = "all" if args[0].lower() == "all" else whole_number(args[0])
    result = await deps.db(lambda s: actions.retry_failed(s, which, deps.now(), staff, deps.tz, scope))
    parts = [say("bot.retry_queued", lang, count=len(result.requeued))]
    if result.expired:
        parts.append(say("bot.retry_expired", lang, count=result.expired))
    if result.permanent:
        parts.append(say("bot.retry_permanent", lang, count=result.permanent))
    if result.not_failed:
        parts.append(say("bot.retry_not_failed", lang, code=str(which)))
    if which != "all" and not (result.requeued or result.expired or result.permanent or result.not_failed):
        parts = [say("bot.retry_no_message", lang, code=str(which))]
    if result.requeued:
        parts.append(say("bot.report_later", lang))
    await reply(update, " ".join(parts))
    delivery.watch(context, update.effective_chat.id, deps, result.requeued, "bot.delivery_retry", lang)


@coordinators_only
async def broadcast(update: Update, context: ContextTypes.DEFAULT_TYPE, deps: BotDeps, staff: Staff,
                    scope: Scope) -> None:
    message_text, lang = update.effective_message.text or "", render.language_of(staff)
    parts = message_text.split(None, 2)
    if len(parts) < 3:
        await reply(update, say("bot.broadcast_usage", lang))
        return
    target, text = parts[1].upper(), parts[2].strip()
    if len(text) > actions.BROADCAST_MAX_CHARS:
        await reply(update, say("bot.broadcast_too_long", lang, length=len(text),
                                limit=actions.BROADCAST_MAX_CHARS))
        return

    def work(session):
        recipients = actions.broadcast_recipients(session, target, scope)
        if recipients is None:
            return None, 0
        return actions.request_broadcast(session, target, text, staff, deps.now()).id, len(recipients)

    request_id, count = await deps.db(work)
    if request_id is None:
        await reply(update, say("bot.broadcast_no_site", lang, code=target))
        return
    if count == 0:
        await reply(update, say("bot.broadcast_nobody", lang, code=target))
        return
    info = sms_info(text)
    buttons = InlineKeyboardMarkup([[
        InlineKeyboardButton(say("bot.button_send", lang), callback_data=f"bc:yes:{request_id}"),
        InlineKeyboardButton(say("bot.button_cancel", lang), callback_data=f"bc:no:{request_id}")]])
    preview = (render.broadcast_preview(target, count, text, lang) + "\n\n"
               + say("bot.broadcast_segments", lang, segments=info.segments, encoding=info.encoding))
    await reply(update, preview, buttons)


CANCEL_REPLIES = {  # outcome -> catalog key
    "cancelled": "bot.broadcast_cancelled",
    "done": "bot.broadcast_closed",
    "unknown": "bot.broadcast_unknown",
}
CONFIRM_REPLIES = {
    "sent": "bot.broadcast_sent",
    "done": "bot.broadcast_done",
    "expired": "bot.broadcast_expired",
    "unknown": "bot.broadcast_unknown",
}


@coordinators_only
async def confirm(update: Update, context: ContextTypes.DEFAULT_TYPE, deps: BotDeps, staff: Staff,
                  scope: Scope) -> None:
    query = update.callback_query
    _, answer, request_id = (query.data.split(":") + ["", ""])[:3]
    await query.answer()
    request = whole_number(request_id)
    if request is None:
        return
    lang = render.language_of(staff)
    if answer != "yes":
        outcome = await deps.db(lambda s: actions.cancel_broadcast(s, request, staff))
        await query.edit_message_text(say(CANCEL_REPLIES[outcome], lang))
        return
    def work(session):
        rows = []
        outcome, count = actions.confirm_broadcast(session, request, staff, deps.now(), rows)
        session.flush()
        return outcome, count, [row.id for row in rows]

    outcome, count, ids = await deps.db(work)
    text = say(CONFIRM_REPLIES[outcome], lang, count=count)
    await query.edit_message_text(text + (" " + say("bot.report_later", lang) if ids else ""))
    delivery.watch(context, update.effective_chat.id, deps, ids, "bot.delivery_broadcast", lang)
