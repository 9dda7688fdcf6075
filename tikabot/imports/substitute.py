"""A substitute on the day: one vaccinator or verifier added to a site by a coordinator (from the
bot, `/staff add`) or by the district's administrator (`tikabot staff add`), without editing
staff.csv.

The row is committed at once and the runner reads staff from the database for every message, so
the substitute's next SMS is answered as staff (START, DOSE...), not as a beneficiary's. Every
addition is audited (`staff.substitute_added`: who added whom, where; the phone masked). A later
`tikabot import staff` of a staff.csv that does not list them leaves them as they are; one that
does list them decides their site and role.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tikabot.core.phones import BadPhone, mask, normalise
from tikabot.i18n.catalog import DEFAULT_LANGUAGE, LANGUAGES, render
from tikabot.i18n.places import PlaceName, place_name
from tikabot.store.models import AuditLog, Site, Staff

ROLES = ("vaccinator", "verifier")
AUDITED = "staff.substitute_added"


SHOWN_AS_TYPED = 20  # characters of a refused phone shown back to whoever typed it


class CannotAdd(ValueError):
    """Why a substitute was not added, as a catalog entry (`bot.staff_cannot_<why>`) and its params:
    the bot says it in the coordinator's language (text), the command line in English (str)."""

    def __init__(self, why: str, **params: object):
        self.key = f"bot.staff_cannot_{why}"
        self.params = params
        super().__init__(self.text(DEFAULT_LANGUAGE))

    def text(self, lang: str) -> str:
        return render(self.key, lang, **self.params)


@dataclass(frozen=True)
class Added:
    staff_id: int
    phone: str
    name: str
    role: str
    site_code: str
    site_name: str
    was: str  # "new", "moved" (from another site or role, or inactive), "already" (nothing changed)
    site_place: PlaceName  # the site's name as each reader reads it (the bot's reply)


def site_language(session: Session, site: Site) -> str:
    """The language most of the site's active staff read (the one a substitute there most likely
    reads too; LANG changes it), else English."""
    found = session.execute(select(Staff.language, func.count()).where(
        Staff.site_id == site.id, Staff.active.is_(True), Staff.role != "coordinator")
        .group_by(Staff.language).order_by(func.count().desc(), Staff.language)).first()
    return found[0] if found and found[0] in LANGUAGES else "en"


def add_substitute(session: Session, *, phone: str, name: str, site: Site, actor: str, role: str = "vaccinator",
                   language: str | None = None) -> Added:
    """Add (or move, or reactivate) staff at `site`, in the caller's transaction; CannotAdd with the
    reason in words, in any reader's language. A coordinator's phone is never turned into a vaccinator's. Language: as given,
    else the site's staff's (site_language)."""
    language = language or site_language(session, site)
    typed = " ".join((phone or "").split())
    if not typed:
        raise CannotAdd("phone_missing")
    try:
        phone = normalise(typed)
    except BadPhone:
        shown = typed if len(typed) <= SHOWN_AS_TYPED else typed[:SHOWN_AS_TYPED] + "..."
        raise CannotAdd("phone_invalid", phone=shown) from None
    name = " ".join((name or "").split())
    if not name:
        raise CannotAdd("name_missing")
    if role not in ROLES:
        raise CannotAdd("role_unknown")
    if language not in LANGUAGES:
        raise CannotAdd("language_unknown", languages=", ".join(LANGUAGES))
    staff = session.scalar(select(Staff).where(Staff.phone == phone))
    if staff is not None and staff.role == "coordinator":
        raise CannotAdd("coordinator_phone", phone=mask(phone))
    if staff is not None and staff.active and staff.site_id == site.id and staff.role == role:
        return Added(staff.id, phone, staff.name, role, site.code, site.name, "already", place_name(site))
    was = "new" if staff is None else "moved"
    if staff is None:
        staff = Staff(phone=phone, name=name, role=role, site_id=site.id, language=language, active=True)
        session.add(staff)
    else:
        staff.role, staff.site_id, staff.active, staff.name = role, site.id, True, name
    session.flush()
    session.add(AuditLog(actor=actor[:64], action=AUDITED, detail={
        "staff_id": staff.id, "phone": mask(phone), "site": site.code, "role": role, "was": was}))
    return Added(staff.id, phone, staff.name, role, site.code, site.name, was, place_name(site))


def site_by_code(session: Session, code: str) -> Site | None:
    return session.scalar(select(Site).where(Site.code == code.strip().upper()))
