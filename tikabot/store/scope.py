"""Which sites a coordinator answers for: their level (staff.level) and scope (staff.scope).

- `site` or `mobiliser`: their own site (staff.site_id) and nothing else.
- `district`, or no level (the default): the sites of the district named in `scope`; with no
  scope, the district of their own site; with neither, the one district when every site is in
  the same district, named or not (a single-district deployment keeps working as it did), else
  nothing.
- `state`: the sites of the state named in `scope`; with no scope, every site. Only a coordinator
  explicitly marked `state` sees everything.

An empty level never widens the view: marking everyone "state" by default would show each
district's beneficiaries and staff to every other district's coordinators the day a second district
is imported. A coordinator whose scope resolves to nothing sees no site and is told to ask for
their level and scope to be set; nothing is shown by guess.

Names are compared without case or surrounding spaces ("Nadia" and " nadia").
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tikabot.store.models import Site, Staff

SITE_LEVELS = ("site", "mobiliser")
DISTRICT, STATE = "district", "state"
LEVELS = (None, "site", DISTRICT, STATE, "mobiliser")  # what staff.csv `level` may say; empty: district


@dataclass(frozen=True)
class Scope:
    level: str  # site | district | state
    site_ids: frozenset[int]
    everything: bool = False  # a state coordinator with no state named: also what belongs to no site

    def covers(self, site_id: int | None) -> bool:
        """Whether this coordinator may see and act on a site (None: something of no site)."""
        return self.everything if site_id is None else (self.everything or site_id in self.site_ids)

    def covers_any(self, site_ids) -> bool:
        return any(self.covers(i) for i in site_ids)

    @property
    def empty(self) -> bool:
        return not self.everything and not self.site_ids


def level_of(staff: Staff) -> str:
    level = (staff.level or DISTRICT).lower()
    return "site" if level in SITE_LEVELS else level


def _same(a: str | None, b: str | None) -> bool:
    return (a or "").strip().casefold() == (b or "").strip().casefold()


def scope_of(session: Session, staff: Staff, sites: list | None = None) -> Scope:
    """`sites`: every site's (id, district, state), when the caller has them already."""
    level = level_of(staff)
    if level == "site":
        return Scope("site", frozenset([staff.site_id]) if staff.site_id else frozenset())
    if sites is None:
        sites = all_sites(session)
    if level == STATE:
        if not (staff.scope or "").strip():
            return Scope(STATE, frozenset(i for i, _, _ in sites), everything=True)
        return Scope(STATE, frozenset(i for i, _, state in sites if _same(state, staff.scope)))
    district = _district_of(session, staff, {d for _, d, _ in sites})
    return Scope(DISTRICT, frozenset(i for i, d, _ in sites if district is not None and _same(d, district)))


def all_sites(session: Session) -> list:
    return session.execute(select(Site.id, Site.district, Site.state)).all()


def _district_of(session: Session, staff: Staff, districts: set[str]) -> str | None:
    if (staff.scope or "").strip():
        return staff.scope
    if staff.site_id is not None:
        return session.scalar(select(Site.district).where(Site.id == staff.site_id))
    named = {(d or "").strip().casefold() for d in districts}
    return next(iter(districts)) if len(named) == 1 else None  # one district (named or not): it


def site_in_scope(session: Session, code: str, scope: Scope) -> Site | None:
    """The site with this code when the scope covers it; None when it does not or there is none
    (one answer for both, so a refusal never tells whether another district's site exists)."""
    site = session.scalar(select(Site).where(Site.code == code.strip().upper()))
    return site if site is not None and scope.covers(site.id) else None


def in_scope(session: Session, code: str, scope: Scope) -> bool:
    return site_in_scope(session, code, scope) is not None
