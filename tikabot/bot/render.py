"""Words for coordinators: pure functions from query results to plain text, and pagination.

Every reply comes from the message catalogs (keys ``bot.*``) in the coordinator's language
(Staff.language), so dates, counts and site names read as that coordinator writes them; command
names, site codes, refs and phone numbers stay as they are.

Plain text (no Markdown/HTML parse mode), so a site name with `*` or `<` can never break a reply.
"""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from tikabot.bot.failures import ORDER, retry_pointless
from tikabot.bot.need import Need
from tikabot.bot.queries import OldestUnsynced, PendingSite, SiteDetail
from tikabot.bot.site_status import SiteStatus
from tikabot.i18n.catalog import DEFAULT_LANGUAGE, LANGUAGES, render
from tikabot.i18n.dates import Slot, day_text
from tikabot.i18n.numbers import native_digits
from tikabot.core.phones import mask

PAGE_SIZE = 10  # items per page; a site line is ~100 characters, far below Telegram's 4,096
MAX_TEXT = 4096
STATES = {"open": "bot.state_open", "closed": "bot.state_closed", "no session": "bot.state_none"}


def language_of(staff) -> str:
    """The language a staff member reads (English when the record has none we know)."""
    lang = (getattr(staff, "language", None) or "").lower()
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def help_text(lang: str = DEFAULT_LANGUAGE) -> str:
    return render("bot.help", lang)


def refusal(lang: str = DEFAULT_LANGUAGE, user_id: int | None = None) -> str:
    """The answer to someone who is not a coordinator: their Telegram user id (as digits they can
    copy, never localised: an administrator types it into staff.csv) and whom to send it to."""
    return render("bot.refused", lang, user_id="?" if user_id is None else str(user_id))


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


def percent(done: int, due: int) -> int:
    return round(100 * done / due) if due else 0


def flags_text(status: SiteStatus, need: Need, tz: str, lang: str = DEFAULT_LANGUAGE) -> str:
    parts = []
    if need.not_started:
        parts.append(render("bot.flag_not_started", lang, time=local_time(status.opens_at, tz, lang)))
    if need.silent_minutes is not None:
        parts.append(render("bot.flag_silent", lang, minutes=need.silent_minutes))
    if need.behind_by:
        parts.append(render("bot.flag_behind", lang, count=need.behind_by, expected=round(status.expected)))
    if need.manual:
        parts.append(render("bot.flag_manual", lang))
    if need.closed:
        parts.append(render("bot.flag_closed", lang))
    return "".join(parts)


def ranked_line(status: SiteStatus, need: Need, tz: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """One site in /status: short enough for a phone's screen."""
    mark = "\U0001F534 " if need.flagged else ""  # a red circle: language-free, seen at a glance
    flags = flags_text(status, need, tz, lang)
    if status.due == 0:
        return render("bot.status_nothing_due", lang, mark=mark, code=status.code, name=status.name,
                      done=status.done, flags=flags)
    return render("bot.status_site", lang, mark=mark, code=status.code, name=status.name, done=status.done,
                  due=status.due, share=percent(status.done, status.due),
                  time=local_time(status.last_report, tz, lang) if status.last_report
                  else render("bot.no_report_yet", lang), flags=flags)


def ranked_lines(pairs: list[tuple[SiteStatus, Need]], tz: str, lang: str = DEFAULT_LANGUAGE) -> list[str]:
    return [ranked_line(s, n, tz, lang) for s, n in pairs]


def status_title(day: date, statuses: list[SiteStatus], lang: str = DEFAULT_LANGUAGE,
                 pairs: list[tuple[SiteStatus, Need]] | None = None, now: datetime | None = None,
                 tz: str = "Asia/Kolkata") -> str:
    """The district on top: done of due and its share, the plan so far, how many sites need help."""
    pairs = pairs if pairs is not None else [(s, Need()) for s in statuses]
    done, due = sum(s.done for s in statuses), sum(s.due for s in statuses)
    opened = sum(1 for s in statuses if s.session_state == "open")
    return render("bot.status_head", lang, date=day.isoformat() if lang == DEFAULT_LANGUAGE else day,
                  time=local_time(now, tz, lang), done=done, due=due, share=percent(done, due),
                  expected=round(sum(s.expected for s in statuses)), sites=len(statuses), open=opened,
                  help=sum(1 for _, n in pairs if n.flagged))


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
    if s.in_charge is not None:  # the full number: Telegram makes +91... a link to call
        lines.append(render("bot.site_call", lang, name=s.in_charge.name, phone=s.in_charge.phone))
    lines.append(render("bot.site_staff", lang, count=len(detail.staff)))
    for person in detail.staff:
        state = "" if person.active else render("bot.site_inactive", lang)
        role = render(f"bot.role_{person.role}", lang) if person.role in ROLES else person.role
        lines.append(render("bot.site_person", lang, name=person.name, role=role, phone=mask(person.phone),
                            language=person.language, inactive=state))
    return "\n".join(lines)[:MAX_TEXT]


ROLES = ("vaccinator", "verifier", "coordinator")
MOBILISER = "mobiliser"


def sees_full_numbers(staff, detail: SiteDetail, allowed: bool) -> bool:
    """Full numbers of people still due go only to the site's own mobiliser (a coordinator of that
    site with staff.level mobiliser), and only where the deployment allows it
    (TIKABOT_MOBILISER_FULL_NUMBERS); every other coordinator sees them masked."""
    return bool(allowed and getattr(staff, "level", None) == MOBILISER
                and any(p.id == staff.id for p in detail.staff))


def remaining_text(detail: SiteDetail, people: list, full_numbers: bool, lang: str = DEFAULT_LANGUAGE) -> str:
    s = detail.status
    lines = [render("bot.remaining_head", lang, code=s.code, name=s.name, count=len(people), due=s.due)]
    for person in people:
        lines.append(render("bot.remaining_person", lang, name=person.name, ref=person.ref, dose=person.dose_number,
                            slot=Slot(person.slot), phone=person.phone if full_numbers else mask(person.phone)))
    if not people:
        lines.append(render("bot.remaining_none", lang))
    return "\n".join(lines)[:MAX_TEXT]


PEOPLE_PER_SITE = 5


def failed_lines(messages: list, lang: str = DEFAULT_LANGUAGE) -> list[str]:
    """/failed: by reason a person understands (with what to do), then by site with who is affected
    (numbers masked)."""
    if not messages:
        return []
    by_reason: dict[str, int] = {}
    by_site: dict[str | None, list] = {}
    for m in messages:
        by_reason[m.reason] = by_reason.get(m.reason, 0) + 1
        by_site.setdefault(m.site_code, []).append(m)
    lines = [render("bot.failed_by_reason", lang)]
    for reason in sorted(by_reason, key=lambda r: (-by_reason[r], ORDER.index(r))):
        hint = "bot.hint_account" if reason == "account" else (
            "bot.hint_no_retry" if retry_pointless(reason) or reason == "too_late" else "bot.hint_retry")
        lines.append(render("bot.failed_reason_line", lang, reason=render(f"bot.reason_{reason}", lang),
                            count=by_reason[reason], hint=render(hint, lang)))
    lines.append(render("bot.failed_by_site", lang))
    for code in sorted(by_site, key=lambda c: (-len(by_site[c]), c or "")):
        group = by_site[code]
        people = ", ".join(render("bot.failed_person", lang, name=m.person, phone=mask(m.phone),
                                  kind=render(f"bot.msgkind_{m.kind}", lang),
                                  reason=render(f"bot.reason_short_{m.reason}", lang))
                           for m in group[:PEOPLE_PER_SITE])
        more = len(group) - PEOPLE_PER_SITE
        if more > 0:
            people += render("bot.and_more", lang, count=more)
        where = f"{code} {group[0].site_name.localize(lang) if hasattr(group[0].site_name, 'localize') else ''}" \
            if code else render("bot.no_site_name", lang)
        lines.append(render("bot.failed_site_line", lang, where=where.strip(), count=len(group), people=people))
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
