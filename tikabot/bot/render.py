"""Words for coordinators: pure functions from query results to plain text, and pagination.

Plain text (no Markdown/HTML parse mode), so a site name with `*` or `<` can never break a reply.
"""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from tikabot.bot.queries import FailureGroup, OldestUnsynced, PendingSite, SiteDetail, SiteStatus
from tikabot.phones import mask

PAGE_SIZE = 10  # items per page; a site line is ~100 characters, far below Telegram's 4,096
MAX_TEXT = 4096

HELP = """tikabot coordinator commands:
/status - every site today: session, mode, doses, due, remaining, failed sends
/site CODE - one site: session, counts, staff, last report
/manual CODE on|off - switch a site to paper (manual) mode or back to SMS; its staff are told by SMS
/failed - messages that failed in the last 24 hours, by error
/retry all|ID - send failed messages again
/broadcast CODE|ALL text - SMS to site staff (you confirm first)
/chart - doses today per site and per hour (PNG)
/pending - dose records not yet synced upstream
/export [CODE] [YYYY-MM-DD] - dose records as CSV
/help - this list"""

REFUSAL = ("Sorry, this bot is only for district and state coordinators. "
           "If you are one, ask your administrator to add your Telegram user id.")


def paginate(items: list[str], page: int, size: int = PAGE_SIZE) -> tuple[list[str], int, int]:
    """One page of items (1-based, clamped), the page shown and the number of pages."""
    pages = max(1, -(-len(items) // size))
    page = min(max(page, 1), pages)
    return items[(page - 1) * size: page * size], page, pages


def page_text(title: str, items: list[str], page: int, empty: str) -> tuple[str, int, int]:
    if not items:
        return f"{title}\n{empty}", 1, 1
    shown, page, pages = paginate(items, page)
    footer = f"\n(page {page} of {pages})" if pages > 1 else ""
    return (f"{title}\n" + "\n".join(shown) + footer)[:MAX_TEXT], page, pages


def local_time(moment: datetime | None, tz: str) -> str:
    return moment.astimezone(ZoneInfo(tz)).strftime("%H:%M") if moment else "-"


def doses_text(doses: dict[int, int]) -> str:
    if not doses:
        return "doses 0"
    return "doses " + ", ".join(f"D{n}:{c}" for n, c in sorted(doses.items()))


def status_line(status: SiteStatus) -> str:
    mode = "MANUAL" if status.manual_mode else "sms"
    return (f"{status.code} {status.name}: {status.session_state}, {mode}, {doses_text(status.doses)}, "
            f"due {status.due}, remaining {status.remaining}, failed sends {status.failed_sends}")


def status_lines(statuses: list[SiteStatus]) -> list[str]:
    return [status_line(s) for s in statuses]


def status_title(day: date, statuses: list[SiteStatus]) -> str:
    total = sum(sum(s.doses.values()) for s in statuses)
    opened = sum(1 for s in statuses if s.session_state == "open")
    return f"Status {day.isoformat()}: {len(statuses)} sites, {opened} open, {total} doses"


def site_text(detail: SiteDetail, tz: str) -> str:
    s = detail.status
    lines = [f"{s.code} {s.name} ({detail.district or 'no district'})",
             f"Mode: {'MANUAL (paper)' if s.manual_mode else 'SMS'}"]
    if s.session is None:
        lines.append("Session: not opened today")
    else:
        lines.append(f"Session: {s.session_state}, {s.session.vaccine} lot {s.session.lot}, "
                     f"opened {local_time(s.session.opened_at, tz)}"
                     + (f", closed {local_time(s.session.closed_at, tz)}" if s.session.closed_at else ""))
    lines.append(f"Today: {doses_text(s.doses)}, due {s.due}, remaining {s.remaining}, "
                 f"failed sends {s.failed_sends}")
    lines.append(f"Last report: {local_time(detail.last_report, tz)}")
    lines.append(f"Staff ({len(detail.staff)}):")
    for person in detail.staff:
        state = "" if person.active else " (inactive)"
        lines.append(f"- {person.name}, {person.role}, {mask(person.phone)}, {person.language}{state}")
    return "\n".join(lines)[:MAX_TEXT]


def failure_lines(groups: list[FailureGroup]) -> list[str]:
    lines = []
    for group in groups:
        kinds = ", ".join(f"{name} {count}" for name, count in group.templates.most_common(3))
        ids = ", ".join(str(i) for i in group.latest_ids)
        lines.append(f"error {group.error_code}: {group.count} ({kinds}); latest ids {ids}")
    return lines


def pending_lines(sites: list[PendingSite], tz: str) -> list[str]:
    return [f"{p.code}: {p.count} records" + (f" ({p.failed} refused)" if p.failed else "")
            + f", oldest {p.oldest.astimezone(ZoneInfo(tz)):%Y-%m-%d %H:%M}" for p in sites]


def oldest_unsynced_line(oldest: OldestUnsynced | None, tz: str) -> str:
    if oldest is None:
        return ""
    line = (f"Oldest: ref {oldest.ref} dose {oldest.dose_number} at {oldest.site}, "
            f"reported {oldest.reported_at.astimezone(ZoneInfo(tz)):%Y-%m-%d %H:%M}")
    return line + (f"; last error: {oldest.error[:200]}" if oldest.error else "")


def broadcast_preview(target: str, count: int, text: str) -> str:
    where = "every site" if target == "ALL" else target
    return f"Send this SMS to {count} staff at {where}?\n\n{text}"
