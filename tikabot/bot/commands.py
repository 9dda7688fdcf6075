"""Read-only coordinator commands: /help, /status, /site, /failed, /pending, /chart, /export."""
from __future__ import annotations

import asyncio
import io
import re
from datetime import date

from telegram import InputFile, Update
from telegram.ext import ContextTypes

from tikabot.bot import queries, render
from tikabot.bot.args import whole_number
from tikabot.bot.deps import BotDeps
from tikabot.bot.guard import coordinators_only, pager, reply
from tikabot.charts import doses_chart
from tikabot.export import export_doses
from tikabot.store.models import Site, Staff

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


@coordinators_only
async def help_(update: Update, context: ContextTypes.DEFAULT_TYPE, deps: BotDeps, staff: Staff) -> None:
    await reply(update, render.HELP)


@coordinators_only
async def unknown(update: Update, context: ContextTypes.DEFAULT_TYPE, deps: BotDeps, staff: Staff) -> None:
    await reply(update, "I did not understand that. Send /help for the list of commands.")


# --- paginated lists: each builds (text, page, pages) for a page; used by commands and buttons ---

async def status_page(deps: BotDeps, page: int) -> tuple[str, int, int]:
    day = deps.today()
    statuses = await deps.db(lambda s: queries.site_statuses(s, day, deps.tz))
    return render.page_text(render.status_title(day, statuses), render.status_lines(statuses), page,
                            "No sites yet. Import them with tikabot import sites.")


async def failed_page(deps: BotDeps, page: int) -> tuple[str, int, int]:
    groups = await deps.db(lambda s: queries.failure_groups(s, queries.recent(deps.now())))
    total = sum(g.count for g in groups)
    return render.page_text(f"Failed messages, last 24 hours: {total}", render.failure_lines(groups), page,
                            "None. Every message was sent.")


async def pending_page(deps: BotDeps, page: int) -> tuple[str, int, int]:
    sites = await deps.db(queries.pending_sync)
    oldest = render.oldest_unsynced_line(await deps.db(queries.oldest_unsynced), deps.tz)
    total = sum(p.count for p in sites)
    return render.page_text(f"Dose records not yet synced upstream: {total}" + (f"\n{oldest}" if oldest else ""),
                            render.pending_lines(sites, deps.tz), page, "Everything is synced.")


PAGES = {"status": status_page, "failed": failed_page, "pending": pending_page}


def _page_arg(context: ContextTypes.DEFAULT_TYPE) -> int:
    return (whole_number(context.args[0]) if context.args else None) or 1


async def _send_page(update: Update, context: ContextTypes.DEFAULT_TYPE, deps: BotDeps, kind: str) -> None:
    text, page, pages = await PAGES[kind](deps, _page_arg(context))
    await reply(update, text, pager(kind, page, pages))


@coordinators_only
async def status(update: Update, context: ContextTypes.DEFAULT_TYPE, deps: BotDeps, staff: Staff) -> None:
    await _send_page(update, context, deps, "status")


@coordinators_only
async def failed(update: Update, context: ContextTypes.DEFAULT_TYPE, deps: BotDeps, staff: Staff) -> None:
    await _send_page(update, context, deps, "failed")


@coordinators_only
async def pending(update: Update, context: ContextTypes.DEFAULT_TYPE, deps: BotDeps, staff: Staff) -> None:
    await _send_page(update, context, deps, "pending")


@coordinators_only
async def turn_page(update: Update, context: ContextTypes.DEFAULT_TYPE, deps: BotDeps, staff: Staff) -> None:
    query = update.callback_query
    _, kind, number = (query.data.split(":") + ["", ""])[:3]
    await query.answer()
    page_asked = whole_number(number)
    if kind not in PAGES or page_asked is None:
        return
    text, page, pages = await PAGES[kind](deps, page_asked)
    await query.edit_message_text(text, reply_markup=pager(kind, page, pages))


@coordinators_only
async def site(update: Update, context: ContextTypes.DEFAULT_TYPE, deps: BotDeps, staff: Staff) -> None:
    if len(context.args) != 1 or not CODE.match(context.args[0]):
        await reply(update, "Send /site CODE, for example /site KAL01. /status lists the codes.")
        return
    code, day = context.args[0].upper(), deps.today()

    def work(session):
        detail = queries.site_detail(session, code, day, deps.tz)
        return None if detail is None else render.site_text(detail, deps.tz)

    text = await deps.db(work)
    await reply(update, text or f"There is no site {code}. /status lists the codes.")


@coordinators_only
async def chart(update: Update, context: ContextTypes.DEFAULT_TYPE, deps: BotDeps, staff: Staff) -> None:
    day = deps.today()
    per_site, per_hour = await deps.db(lambda s: queries.doses_by_site_and_hour(s, day, deps.tz))
    png = await asyncio.to_thread(doses_chart, day, per_site, per_hour)  # ~0.1-0.8 s of CPU: off the loop
    total = sum(per_site.values())
    await update.effective_message.reply_photo(InputFile(io.BytesIO(png), filename=f"doses-{day}.png"),
                                               caption=f"Doses {day.isoformat()}: {total}")


def parse_export_args(args: list[str], today: date) -> tuple[str | None, date] | str:
    """([CODE] [DATE]) in either order -> (code, day), or an error message."""
    code, day = None, today
    for arg in args:
        if DATE.match(arg):
            try:
                day = date.fromisoformat(arg)
            except ValueError:
                return f"{arg} is not a real date. Use YYYY-MM-DD, for example {today.isoformat()}."
        elif CODE.match(arg) and code is None:
            code = arg.upper()
        else:
            return "Send /export [CODE] [YYYY-MM-DD], for example /export KAL01 " + today.isoformat()
    return code, day


@coordinators_only
async def export(update: Update, context: ContextTypes.DEFAULT_TYPE, deps: BotDeps, staff: Staff) -> None:
    parsed = parse_export_args(context.args, deps.today())
    if isinstance(parsed, str):
        await reply(update, parsed)
        return
    code, day = parsed

    def work(session):
        if code and session.query(Site.id).filter(Site.code == code).first() is None:
            return None, 0
        out = io.StringIO()
        count = export_doses(session, out, deps.tz, day, code)
        return out.getvalue(), count

    csv_text, count = await deps.db(work)
    if csv_text is None:
        await reply(update, f"There is no site {code}. /status lists the codes.")
        return
    name = f"doses-{day.isoformat()}" + (f"-{code}" if code else "") + ".csv"
    await update.effective_message.reply_document(InputFile(io.BytesIO(csv_text.encode("utf-8")), filename=name),
                                                  caption=f"{count} dose records, {day.isoformat()}"
                                                  + (f", {code}" if code else ", all sites"))
