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
from tikabot.i18n.catalog import LANGUAGES
from tikabot.store.models import AuditLog, Site, Staff

ROLES = ("vaccinator", "verifier")
AUDITED = "staff.substitute_added"


class CannotAdd(ValueError):
    pass


@dataclass(frozen=True)
class Added:
    staff_id: int
    phone: str
    name: str
    role: str
    site_code: str
    site_name: str
    was: str  # "new", "moved" (from another site or role, or inactive), "already" (nothing changed)


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
    reason in words. A coordinator's phone is never turned into a vaccinator's. Language: as given,
    else the site's staff's (site_language)."""
    language = language or site_language(session, site)
    try:
        phone = normalise(phone)
    except BadPhone as exc:
        raise CannotAdd(str(exc)) from None
    name = " ".join((name or "").split())
    if not name:
        raise CannotAdd("give the substitute's name")
    if role not in ROLES:
        raise CannotAdd(f"role must be {' or '.join(ROLES)}, not {role!r}")
    if language not in LANGUAGES:
        raise CannotAdd(f"language must be one of {', '.join(LANGUAGES)}, not {language!r}")
    staff = session.scalar(select(Staff).where(Staff.phone == phone))
    if staff is not None and staff.role == "coordinator":
        raise CannotAdd(f"{mask(phone)} is a coordinator's phone: a coordinator cannot also report doses")
    if staff is not None and staff.active and staff.site_id == site.id and staff.role == role:
        return Added(staff.id, phone, staff.name, role, site.code, site.name, "already")
    was = "new" if staff is None else "moved"
    if staff is None:
        staff = Staff(phone=phone, name=name, role=role, site_id=site.id, language=language, active=True)
        session.add(staff)
    else:
        staff.role, staff.site_id, staff.active, staff.name = role, site.id, True, name
    session.flush()
    session.add(AuditLog(actor=actor[:64], action=AUDITED, detail={
        "staff_id": staff.id, "phone": mask(phone), "site": site.code, "role": role, "was": was}))
    return Added(staff.id, phone, staff.name, role, site.code, site.name, was)


def site_by_code(session: Session, code: str) -> Site | None:
    return session.scalar(select(Site).where(Site.code == code.strip().upper()))
