"""Coordinator commands that change something: /manual, /retry, /broadcast (with a confirm button)."""
from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from tikabot.bot import actions, render
from tikabot.bot.args import whole_number
from tikabot.bot.deps import BotDeps
from tikabot.bot.guard import coordinators_only, reply
from tikabot.i18n.encoding import sms_info
from tikabot.store.models import Staff

SWITCH = {"on": True, "off": False}


@coordinators_only
async def manual(update: Update, context: ContextTypes.DEFAULT_TYPE, deps: BotDeps, staff: Staff) -> None:
    args = context.args
    if len(args) != 2 or args[1].lower() not in SWITCH:
        await reply(update, "Send /manual CODE on or /manual CODE off, for example /manual KAL01 on.")
        return
    code, on = args[0].upper(), SWITCH[args[1].lower()]

    def work(session):
        site = actions.find_site(session, code)
        return None if site is None else actions.set_manual_mode(session, site, on, staff)

    result = await deps.db(work)
    if result is None:
        text = f"There is no site {code}. /status lists the codes."
    elif not result.changed:
        text = f"{code} is already {'in manual mode' if on else 'on SMS'}. Nothing changed."
    elif on:
        text = (f"{code} is now in manual mode. {result.told} staff were told by SMS to write doses "
                f"in the paper register.")
    else:
        text = f"{code} is back on SMS. {result.told} staff were told by SMS to send DOSE as usual."
    await reply(update, text)


@coordinators_only
async def retry(update: Update, context: ContextTypes.DEFAULT_TYPE, deps: BotDeps, staff: Staff) -> None:
    args = context.args
    if len(args) != 1 or not (args[0].lower() == "all" or whole_number(args[0]) is not None):
        await reply(update, "Send /retry all, or /retry ID with an id from /failed.")
        return
    which = "all" if args[0].lower() == "all" else whole_number(args[0])
    result = await deps.db(lambda s: actions.retry_failed(s, which, deps.now(), staff))
    parts = [f"Queued again: {len(result.requeued)}."]
    if result.expired:
        parts.append(f"Not sent because too late now: {result.expired}.")
    if result.permanent:
        parts.append(f"Skipped, will fail again (bad or blocked number): {result.permanent}.")
    if result.not_failed:
        parts.append(f"Message {which} has not failed; nothing to retry.")
    if which != "all" and not (result.requeued or result.expired or result.not_failed):
        parts = [f"There is no message {which}. /failed shows recent ids."]
    await reply(update, " ".join(parts))


@coordinators_only
async def broadcast(update: Update, context: ContextTypes.DEFAULT_TYPE, deps: BotDeps, staff: Staff) -> None:
    message_text = update.effective_message.text or ""
    parts = message_text.split(None, 2)
    if len(parts) < 3:
        await reply(update, "Send /broadcast CODE text, or /broadcast ALL text.")
        return
    target, text = parts[1].upper(), parts[2].strip()
    if len(text) > actions.BROADCAST_MAX_CHARS:
        await reply(update, f"That is {len(text)} characters; keep a broadcast under "
                            f"{actions.BROADCAST_MAX_CHARS} so it stays a few SMS.")
        return

    def work(session):
        recipients = actions.broadcast_recipients(session, target)
        if recipients is None:
            return None, 0
        return actions.request_broadcast(session, target, text, staff).id, len(recipients)

    request_id, count = await deps.db(work)
    if request_id is None:
        await reply(update, f"There is no site {target}. Use a code from /status, or ALL.")
        return
    if count == 0:
        await reply(update, f"No active staff at {target}: nothing to send.")
        return
    info = sms_info(text)
    buttons = InlineKeyboardMarkup([[InlineKeyboardButton("Send", callback_data=f"bc:yes:{request_id}"),
                                     InlineKeyboardButton("Cancel", callback_data=f"bc:no:{request_id}")]])
    preview = render.broadcast_preview(target, count, text) + f"\n\n({info.segments} SMS each, {info.encoding})"
    await reply(update, preview, buttons)


CANCEL_REPLIES = {
    "cancelled": "Broadcast cancelled. Nothing was sent.",
    "done": "This broadcast was already sent or cancelled.",
    "unknown": "This broadcast is not yours or no longer exists.",
}
CONFIRM_REPLIES = {
    "sent": "Sent to {n} staff.",
    "done": "This broadcast was already sent.",
    "expired": "This broadcast expired; send /broadcast again.",
    "unknown": "This broadcast is not yours or no longer exists.",
}


@coordinators_only
async def confirm(update: Update, context: ContextTypes.DEFAULT_TYPE, deps: BotDeps, staff: Staff) -> None:
    query = update.callback_query
    _, answer, request_id = (query.data.split(":") + ["", ""])[:3]
    await query.answer()
    request = whole_number(request_id)
    if request is None:
        return
    if answer != "yes":
        outcome = await deps.db(lambda s: actions.cancel_broadcast(s, request, staff))
        await query.edit_message_text(CANCEL_REPLIES[outcome])
        return
    outcome, count = await deps.db(lambda s: actions.confirm_broadcast(s, request, staff, deps.now()))
    await query.edit_message_text(CONFIRM_REPLIES[outcome].format(n=count))
