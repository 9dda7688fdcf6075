"""Words for coordinators: pure functions from query results to plain text, and pagination.

Every reply comes from the message catalogs (keys ``bot.*``) in the coordinator's language
(Staff.language), so dates, counts and site names read as that coordinator writes them; command
names, site codes, refs and phone numbers stay as they are.

Plain text (no Markdown/HTML parse mode), so a site name with `*` or `<` can never break a reply.
"""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from tikabot.bot.queries import FailureGroup, OldestUnsynced, PendingSite, SiteDetail, SiteStatus
from tikabot.i18n.catalog import DEFAULT_LANGUAGE, LANGUAGES, render
from tikabot.i18n.dates import day_text
from tikabot.i18n.numbers import native_digits
from tikabot.phones import mask

PAGE_SIZE = 10  # items per page; a site line is ~100 characters, far below Telegram's 4,096
MAX_TEXT = 4096
STATES = {"open": "bot.state_open", "closed": "bot.state_closed", "no session": "bot.state_none"}


def language_of(staff) -> str:
    """The language a staff member reads (English when the record has none we know)."""
    lang = (getattr(staff, "language", None) or "").lower()
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def help_text(lang: str = DEFAULT_LANGUAGE) -> str:
    return render("bot.help", lang)


def refusal(lang: str = DEFAULT_LANGUAGE) -> str:
    return render("bot.refused", lang)


def paginate(items: list[str], page: int, size: int = PAGE_SIZE) -> tuple[list[str], int, int]:
    """One page of items (1-based, clamped), the page shown and the number of pages."""
    pages = max(1, -(-len(items) // size))
    page = min(max(page, 1), pages)
    return items[(page - 1) * size: page * size], page, pages


def page_text(title: str, items: list[str], page: int, empty: str,
              lang: str = DEFAULT_LANGUAGE) -> tuple[str, int, int]:
    if not items:
        return f"{title}\n{empty}", 1, 1
    shown, page, pages = paginate(items, page)
    footer = "\n" + render("bot.page_footer", lang, page=page, pages=pages) if pages > 1 else ""
    return (f"{title}\n" + "\n".join(shown) + footer)[:MAX_TEXT], page, pages


def local_time(moment: datetime | None, tz: str, lang: str = DEFAULT_LANGUAGE) -> str:
    return native_digits(moment.astimezone(ZoneInfo(tz)).strftime("%H:%M"), lang) if moment else "-"


def moment_text(moment: datetime, tz: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """A date and time: 2026-12-02 09:30 in English, ২ ডিসেম্বর ০৯:৩০ / 2 दिसंबर 09:30 otherwise."""
    local = moment.astimezone(ZoneInfo(tz))
    if lang == DEFAULT_LANGUAGE:
        return f"{local:%Y-%m-%d %H:%M}"
    return f"{day_text(local.date(), lang)} {local_time(moment, tz, lang)}"


def doses_text(doses: dict[int, int], lang: str = DEFAULT_LANGUAGE) -> str:
    if not doses:
        return render("bot.doses_none", lang)
    items = ", ".join(render("bot.dose_item", lang, dose=n, count=c) for n, c in sorted(doses.items()))
    return render("bot.doses", lang, list=items)


def state_text(status: SiteStatus, lang: str = DEFAULT_LANGUAGE) -> str:
    return render(STATES[status.session_state], lang)


def status_line(status: SiteStatus, lang: str = DEFAULT_LANGUAGE) -> str:
    mode = render("bot.mode_manual" if status.manual_mode else "bot.mode_sms", lang)
    return render("bot.status_line", lang, code=status.code, name=status.name, state=state_text(status, lang),
                  mode=mode, doses=doses_text(status.doses, lang), due=status.due, remaining=status.remaining,
                  failed=status.failed_sends)


def status_lines(statuses: list[SiteStatus], lang: str = DEFAULT_LANGUAGE) -> list[str]:
    return [status_line(s, lang) for s in statuses]


def status_title(day: date, statuses: list[SiteStatus], lang: str = DEFAULT_LANGUAGE) -> str:
    total = sum(sum(s.doses.values()) for s in statuses)
    opened = sum(1 for s in statuses if s.session_state == "open")
    return render("bot.status_title", lang, date=day.isoformat() if lang == DEFAULT_LANGUAGE else day,
                  sites=len(statuses), open=opened, doses=total)


def site_text(detail: SiteDetail, tz: str, lang: str = DEFAULT_LANGUAGE) -> str:
    s = detail.status
    lines = [render("bot.site_head", lang, code=s.code, name=s.name,
                    district=detail.district or render("bot.no_district", lang)),
             render("bot.site_mode_manual" if s.manual_mode else "bot.site_mode_sms", lang)]
    if s.session is None:
        lines.append(render("bot.site_no_session", lang))
    else:
        closed = (render("bot.site_closed", lang, time=local_time(s.session.closed_at, tz, lang))
                  if s.session.closed_at else "")
        lines.append(render("bot.site_session", lang, state=state_text(s, lang), vaccine=s.session.vaccine,
                            lot=s.session.lot, time=local_time(s.session.opened_at, tz, lang), closed=closed))
    lines.append(render("bot.site_today", lang, doses=doses_text(s.doses, lang), due=s.due, remaining=s.remaining,
                        failed=s.failed_sends))
    lines.append(render("bot.site_last_report", lang, time=local_time(detail.last_report, tz, lang)))
    lines.append(render("bot.site_staff", lang, count=len(detail.staff)))
    for person in detail.staff:
        state = "" if person.active else render("bot.site_inactive", lang)
        role = render(f"bot.role_{person.role}", lang) if person.role in ROLES else person.role
        lines.append(render("bot.site_person", lang, name=person.name, role=role, phone=mask(person.phone),
                            language=person.language, inactive=state))
    return "\n".join(lines)[:MAX_TEXT]


ROLES = ("vaccinator", "verifier", "coordinator")


def failure_lines(groups: list[FailureGroup], lang: str = DEFAULT_LANGUAGE) -> list[str]:
    lines = []
    for group in groups:
        kinds = ", ".join(f"{name} {native_digits(str(count), lang)}" for name, count in group.templates.most_common(3))
        ids = ", ".join(str(i) for i in group.latest_ids)
        lines.append(render("bot.failure_line", lang, code=group.error_code, count=group.count, kinds=kinds,
                            ids=ids))
    return lines


def pending_lines(sites: list[PendingSite], tz: str, lang: str = DEFAULT_LANGUAGE) -> list[str]:
    return [render("bot.pending_line", lang, code=p.code, count=p.count)
            + (render("bot.pending_refused", lang, count=p.failed) if p.failed else "")
            + render("bot.pending_oldest", lang, time=moment_text(p.oldest, tz, lang)) for p in sites]


def oldest_unsynced_line(oldest: OldestUnsynced | None, tz: str, lang: str = DEFAULT_LANGUAGE) -> str:
    if oldest is None:
        return ""
    line = render("bot.oldest_unsynced", lang, ref=oldest.ref, dose=oldest.dose_number, code=oldest.site,
                  time=moment_text(oldest.reported_at, tz, lang))
    return line + (render("bot.oldest_error", lang, error=oldest.error[:200]) if oldest.error else "")


def broadcast_preview(target: str, count: int, text: str, lang: str = DEFAULT_LANGUAGE) -> str:
    where = render("bot.every_site", lang) if target == "ALL" else target
    return render("bot.broadcast_preview", lang, count=count, where=where, text=text)
