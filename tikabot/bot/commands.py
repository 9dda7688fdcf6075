"""Read-only coordinator commands: /help, /status, /site, /failed, /pending, /chart, /export; each
shows only the sites in the coordinator's scope (tikabot/store/scope.py)."""
from __future__ import annotations

import asyncio
import io
import re
from datetime import date

from telegram import InputFile, Update
from telegram.ext import ContextTypes

from tikabot.core import clock
from tikabot.bot import queries, render
from tikabot.bot.need import ranked
from tikabot.bot.args import whole_number
from tikabot.bot.deps import BotDeps
from tikabot.bot.guard import coordinators_only, pager, reply
from tikabot.bot.charts import day_summary_chart, plan_chart
from tikabot.i18n.catalog import render as say
from tikabot.registry.doses_csv import check_day, export_doses
from tikabot.store.models import Staff
from tikabot.store.scope import Scope, in_scope

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


@coordinators_only(needs_sites=False)
async def help_(update: Update, context: ContextTypes.DEFAULT_TYPE, deps: BotDeps, staff: Staff,
                scope: Scope) -> None:
    await reply(update, render.help_text(render.language_of(staff)))


@coordinators_only(needs_sites=False, answer_strangers=True)
async def start(update: Update, context: ContextTypes.DEFAULT_TYPE, deps: BotDeps, staff: Staff,
                scope: Scope) -> None:
    """/start, a newcomer's first message: a coordinator gets the help; anyone else, every time they
    ask, their Telegram user id and what to send their administrator."""
    await reply(update, render.help_text(render.language_of(staff)))


@coordinators_only(needs_sites=False)
async def unknown(update: Update, context: ContextTypes.DEFAULT_TYPE, deps: BotDeps, staff: Staff,
                  scope: Scope) -> None:
    await reply(update, say("bot.unknown", render.language_of(staff)))


# --- paginated lists: each builds (text, page, pages) for a page; used by commands and buttons ---

async def status_page(deps: BotDeps, page: int, lang: str, scope: Scope) -> tuple[str, int, int]:
    """Every site in the coordinator's scope, worst first (tikabot/bot/need.py), under their total."""
    now = deps.now()
    day = clock.local_date(now, deps.tz)
    statuses = await deps.db(lambda s: queries.site_statuses(s, day, deps.tz, now=now, scope=scope))
    pairs = ranked(statuses, now)
    return render.page_text(render.status_title(day, statuses, lang, pairs, now, deps.tz),
                            render.ranked_lines(pairs, deps.tz, lang), page, say("bot.status_empty", lang), lang)


async def failed_page(deps: BotDeps, page: int, lang: str, scope: Scope) -> tuple[str, int, int]:
    messages = await deps.db(lambda s: queries.failed_messages(s, queries.recent(deps.now()), scope))
    return render.page_text(say("bot.failed_title", lang, count=len(messages)), render.failed_lines(messages, lang),
                            page, say("bot.failed_none", lang), lang)


async def pending_page(deps: BotDeps, page: int, lang: str, scope: Scope) -> tuple[str, int, int]:
    sites = await deps.db(lambda s: queries.pending_sync(s, scope))
    oldest = render.oldest_unsynced_line(await deps.db(lambda s: queries.oldest_unsynced(s, scope)), deps.tz, lang)
    total = sum(p.count for p in sites)
    return render.page_text(say("bot.pending_title", lang, count=total) + (f"\n{oldest}" if oldest else ""),
                            render.pending_lines(sites, deps.tz, lang), page, say("bot.pending_none", lang), lang)


PAGES = {"status": status_page, "failed": failed_page, "pending": pending_page}


def _page_arg(context: ContextTypes.DEFAULT_TYPE) -> int:
    return (whole_number(context.args[0]) if context.args else None) or 1


async def _send_page(update: Update, context: ContextTypes.DEFAULT_TYPE, deps: BotDeps, kind: str,
                     lang: str, scope: Scope) -> None:
    text, page, pages = await PAGES[kind](deps, _page_arg(context), lang, scope)
    await reply(update, text, pager(kind, page, pages, lang))


@coordinators_only
async def status(update: Update, context: ContextTypes.DEFAULT_TYPE, deps: BotDeps, staff: Staff,
                 scope: Scope) -> None:
    await _send_page(update, context, deps, "status", render.language_of(staff), scope)


@coordinators_only
async def failed(update: Update, context: ContextTypes.DEFAULT_TYPE, deps: BotDeps, staff: Staff,
                 scope: Scope) -> None:
    await _send_page(update, context, deps, "failed", render.language_of(staff), scope)


@coordinators_only
async def pending(update: Update, context: ContextTypes.DEFAULT_TYPE, deps: BotDeps, staff: Staff,
                  scope: Scope) -> None:
    await _send_page(update, context, deps, "pending", render.language_of(staff), scope)


@coordinators_only
async def turn_page(update: Update, context: ContextTypes.DEFAULT_TYPE, deps: BotDeps, staff: Staff,
                    scope: Scope) -> None:
    query = update.callback_query
    _, kind, number = (query.data.split(":") + ["", ""])[:3]
    await query.answer()
    page_asked = whole_number(number)
    if kind not in PAGES or page_asked is None:
        return
    lang = render.language_of(staff)
    text, page, pages = await PAGES[kind](deps, page_asked, lang, scope)
    await query.edit_message_text(text, reply_markup=pager(kind, page, pages, lang))


async def site_reply(deps: BotDeps, code: str, lang: str, staff: Staff, scope: Scope,
                     remaining: bool = False) -> str:
    """/site CODE (the in-charge's number to call), or /site CODE remaining (who is still due). A
    site outside the coordinator's scope gets the same answer as one that does not exist."""
    now = deps.now()
    day = clock.local_date(now, deps.tz)
    full_numbers = deps.services.config.mobiliser_full_numbers

    def work(session):
        if not in_scope(session, code, scope):
            return None
        detail = queries.site_detail(session, code, day, deps.tz, now=now)
        if detail is None:
            return None
        if not remaining:
            return render.site_text(detail, deps.tz, lang)
        people = queries.still_due(session, code, day)
        shown = render.sees_full_numbers(staff, detail, full_numbers)
        return render.remaining_text(detail, people, shown, lang)

    text = await deps.db(work)
    return text or say("bot.no_site", lang, code=code)


@coordinators_only
async def site(update: Update, context: ContextTypes.DEFAULT_TYPE, deps: BotDeps, staff: Staff,
               scope: Scope) -> None:
    lang, args = render.language_of(staff), context.args
    wants_remaining = len(args) == 2 and args[1].lower() in REMAINING_WORDS
    if not (len(args) == 1 or wants_remaining) or not CODE.match(args[0]):
        await reply(update, say("bot.site_usage", lang))
        return
    await reply(update, await site_reply(deps, args[0].upper(), lang, staff, scope, remaining=wants_remaining))


REMAINING_WORDS = ("remaining", "due", "left", "বাকি", "बाकी")  # what each help text says


@coordinators_only
async def chart(update: Update, context: ContextTypes.DEFAULT_TYPE, deps: BotDeps, staff: Staff,
                scope: Scope) -> None:
    """Each site against its plan; once every site has sent END (or with /chart day), the day summary."""
    lang, now = render.language_of(staff), deps.now()
    day = clock.local_date(now, deps.tz)
    series, ended = await deps.db(lambda s: queries.chart_series(s, day, deps.tz, now, lang, scope))
    summary = ended or (context.args[:1] == ["day"])
    if summary:
        png = await asyncio.to_thread(day_summary_chart, day, series, deps.tz, lang)  # ~0.2-1 s of CPU
    else:
        png = await asyncio.to_thread(plan_chart, day, series, now, deps.tz, lang)
    total = sum(s.done for s in series)
    caption = say("bot.chart_summary_caption" if summary else "bot.chart_caption", lang, date=_day(day, lang),
                  count=total)
    name = f"{'day' if summary else 'doses'}-{day}.png"
    await update.effective_message.reply_photo(InputFile(io.BytesIO(png), filename=name), caption=caption)


def _day(day: date, lang: str) -> date | str:
    """A day in a caption: YYYY-MM-DD in English (as the file name and /export write it), else the
    reader's own date."""
    return day.isoformat() if lang == "en" else day


def parse_export_args(args: list[str], today: date, lang: str = "en") -> tuple[str | None, date] | str:
    """([CODE] [DATE]) in either order -> (code, day), or an error message."""
    code, day = None, today
    for arg in args:
        if DATE.match(arg):
            try:
                day = check_day(date.fromisoformat(arg))
            except ValueError:
                return say("bot.export_bad_date", lang, arg=arg, example=today.isoformat())
        elif CODE.match(arg) and code is None:
            code = arg.upper()
        else:
            return say("bot.export_usage", lang, example=today.isoformat())
    return code, day


@coordinators_only
async def export(update: Update, context: ContextTypes.DEFAULT_TYPE, deps: BotDeps, staff: Staff,
                 scope: Scope) -> None:
    lang = render.language_of(staff)
    parsed = parse_export_args(context.args, deps.today(), lang)
    if isinstance(parsed, str):
        await reply(update, parsed)
        return
    code, day = parsed

    def work(session):
        if code and not in_scope(session, code, scope):
            return None, 0
        out = io.StringIO()
        count = export_doses(session, out, deps.tz, day, code,
                             site_ids=None if scope.everything else scope.site_ids)
        return out.getvalue(), count

    csv_text, count = await deps.db(work)
    if csv_text is None:
        await reply(update, say("bot.no_site", lang, code=code))
        return
    name = f"doses-{day.isoformat()}" + (f"-{code}" if code else "") + ".csv"
    await update.effective_message.reply_document(InputFile(io.BytesIO(csv_text.encode("utf-8")), filename=name),
                                                  caption=say("bot.export_caption_site" if code else
                                                              "bot.export_caption_all", lang, count=count,
                                                              date=_day(day, lang), code=code or ""))
