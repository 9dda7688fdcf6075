"""Read-only queries behind the coordinator commands. They return plain data; render.py words it."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import case, exists, func, select
from sqlalchemy.orm import Session

from tikabot.alerts.state import in_charge
from tikabot.bot.failures import kind_of, reason_of
from tikabot.bot.need import need_of
from tikabot.bot.site_status import SiteStatus
from tikabot.core.clock import as_utc, day_bounds
from tikabot.bot.plan import expected_by, first_start
from tikabot.i18n.places import place_name
from tikabot.store.models import (
    Appointment, Beneficiary, Dose, OutboundMessage, Site, Staff, VaccinationSession,
)
from tikabot.store.activity import last_report
from tikabot.store.scope import Scope

UNSYNCED = ("pending", "correction_pending", "failed")  # failed: the registry refused it (sync_error says why)


@dataclass
class SiteDetail:
    status: SiteStatus
    district: str
    staff: list[Staff]
    last_report: datetime | None


@dataclass
class PendingSite:
    code: str
    count: int
    oldest: datetime
    failed: int = 0


@dataclass
class OldestUnsynced:
    ref: str
    dose_number: int
    site: str
    reported_at: datetime
    error: str | None


def site_statuses(session: Session, day: date, tz: str, code: str | None = None,
                  now: datetime | None = None, scope: Scope | None = None) -> list[SiteStatus]:
    """Every site's day (with a scope, those it covers); with `now`, also its plan so far, its last
    report and its in-charge."""
    start, end = day_bounds(day, tz)
    query = select(Site).order_by(Site.code)
    if code:
        query = query.where(Site.code == code.upper())
    if scope is not None and not scope.everything:
        query = query.where(Site.id.in_(scope.site_ids))
    sites = list(session.scalars(query))
    ids = [s.id for s in sites]
    sessions = {s.site_id: s for s in session.scalars(
        select(VaccinationSession).where(VaccinationSession.date == day, VaccinationSession.site_id.in_(ids)))}
    doses: dict[int, dict[int, int]] = defaultdict(dict)
    for site_id, number, count in session.execute(
            select(Dose.site_id, Dose.dose_number, func.count()).where(
                Dose.administered_at >= start, Dose.administered_at < end, Dose.voided.is_(False),
                Dose.site_id.in_(ids)).group_by(Dose.site_id, Dose.dose_number)):
        doses[site_id][number] = count
    due, remaining = _due_and_remaining(session, day, ids)
    failed = _failed_by_site(session, start, end, ids)
    statuses = [SiteStatus(code=s.code, name=place_name(s), manual_mode=s.manual_mode, session=sessions.get(s.id),
                           doses=dict(sorted(doses[s.id].items())), due=due.get(s.id, 0),
                           remaining=remaining.get(s.id, 0), failed_sends=failed.get(s.id, 0)) for s in sites]
    if now is not None:
        slots = _slots_by_site(session, day, ids)
        for site, status in zip(sites, statuses):
            staff = list(session.scalars(select(Staff).where(Staff.site_id == site.id).order_by(Staff.id)))
            status.expected = expected_by(slots.get(site.id, []), now, day, tz)
            status.opens_at = first_start(slots.get(site.id, []), day, tz)
            status.last_report = last_report(session, site.id, [p.phone for p in staff])
            status.in_charge = in_charge(staff, status.session)
    return statuses


def _slots_by_site(session: Session, day: date, site_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    for site_id, slot in session.execute(select(Appointment.site_id, Appointment.slot).where(
            Appointment.date == day, Appointment.status != "cancelled", Appointment.site_id.in_(site_ids))):
        found[site_id].append(slot)
    return found


def _due_and_remaining(session: Session, day: date, site_ids: list[int]) -> tuple[dict, dict]:
    """Appointments today (not cancelled) per site, and those without a (non-voided) dose yet."""
    booked = (Appointment.date == day, Appointment.status != "cancelled", Appointment.site_id.in_(site_ids))
    given = exists().where(Dose.beneficiary_id == Appointment.beneficiary_id,
                           Dose.dose_number == Appointment.dose_number, Dose.voided.is_(False))
    per_site = select(Appointment.site_id, func.count()).group_by(Appointment.site_id)
    due = dict(session.execute(per_site.where(*booked)).all())
    remaining = dict(session.execute(per_site.where(*booked, ~given)).all())
    return due, remaining


def _failed_by_site(session: Session, start: datetime, end: datetime, site_ids: list[int]) -> dict[int, int]:
    return dict(session.execute(
        select(Beneficiary.site_id, func.count()).select_from(OutboundMessage)
        .join(Beneficiary, OutboundMessage.beneficiary_id == Beneficiary.id)
        .where(OutboundMessage.status == "failed", OutboundMessage.updated_at >= start,
               OutboundMessage.updated_at < end, Beneficiary.site_id.in_(site_ids))
        .group_by(Beneficiary.site_id)).all())


def site_detail(session: Session, code: str, day: date, tz: str, now: datetime | None = None) -> SiteDetail | None:
    statuses = site_statuses(session, day, tz, code, now=now)
    if not statuses:
        return None
    site = session.scalar(select(Site).where(Site.code == code.upper()))
    staff = list(session.scalars(select(Staff).where(Staff.site_id == site.id).order_by(Staff.role, Staff.name)))
    return SiteDetail(status=statuses[0], district=site.district, staff=staff,
                      last_report=last_report(session, site.id, [p.phone for p in staff]))


@dataclass
class DuePerson:
    name: str
    ref: str
    phone: str
    dose_number: int
    slot: str


def still_due(session: Session, code: str, day: date) -> list[DuePerson]:
    """People booked at a site today (not cancelled) with no dose recorded for that appointment, by slot."""
    given = exists().where(Dose.beneficiary_id == Appointment.beneficiary_id,
                           Dose.dose_number == Appointment.dose_number, Dose.voided.is_(False))
    rows = session.execute(
        select(Beneficiary.name, Beneficiary.ref, Beneficiary.phone, Appointment.dose_number, Appointment.slot)
        .join(Beneficiary, Appointment.beneficiary_id == Beneficiary.id).join(Site, Appointment.site_id == Site.id)
        .where(Site.code == code.upper(), Appointment.date == day, Appointment.status != "cancelled", ~given)
        .order_by(Appointment.slot, Beneficiary.name, Beneficiary.ref))
    return [DuePerson(*row) for row in rows]


@dataclass
class FailedMessage:
    id: int
    reason: str  # tikabot/bot/failures.py
    kind: str
    site_code: str | None
    site_name: object
    person: str
    phone: str


def failed_messages(session: Session, since: datetime, scope: Scope | None = None) -> list[FailedMessage]:
    """Messages that finally failed since a moment: why (in people's terms), to whom, at which site;
    with a scope, only its sites' (a message of no site only for a scope over everything)."""
    rows = session.execute(
        select(OutboundMessage.id, OutboundMessage.last_error_code, OutboundMessage.channel,
               OutboundMessage.template, OutboundMessage.recipient, Beneficiary.name, Beneficiary.site_id)
        .outerjoin(Beneficiary, OutboundMessage.beneficiary_id == Beneficiary.id)
        .where(OutboundMessage.status == "failed", OutboundMessage.updated_at >= since)
        .order_by(OutboundMessage.id)).all()
    staff = {p.phone: p for p in session.scalars(select(Staff))}
    by_tg = {str(p.telegram_user_id): p for p in staff.values() if p.telegram_user_id}
    sites = {s.id: s for s in session.scalars(select(Site))}
    found = []
    for mid, code, channel, template, recipient, name, site_id in rows:
        person = staff.get(recipient) or by_tg.get(recipient)
        if name is None and person is not None:
            name, site_id = person.name, person.site_id
        if scope is not None and not scope.covers(site_id):
            continue
        site = sites.get(site_id)
        found.append(FailedMessage(mid, reason_of(code, channel), kind_of(template), site.code if site else None,
                                   place_name(site) if site else None, name or "?",
                                   person.phone if person is not None else recipient))
    return found


def _in(scope: Scope | None) -> list:
    """Filters keeping a query (over Site) to a scope's sites."""
    return [] if scope is None or scope.everything else [Site.id.in_(scope.site_ids)]


def pending_sync(session: Session, scope: Scope | None = None) -> list[PendingSite]:
    """Dose records not yet synced upstream (new, corrected or refused), by site, oldest first."""
    refused = func.sum(case((Dose.sync_state == "failed", 1), else_=0))
    rows = session.execute(
        select(Site.code, func.count(), func.min(Dose.created_at), refused).join(Site, Dose.site_id == Site.id)
        .where(Dose.sync_state.in_(UNSYNCED), *_in(scope)).group_by(Site.code))
    sites = [PendingSite(code, count, as_utc(oldest), int(failed or 0)) for code, count, oldest, failed in rows]
    return sorted(sites, key=lambda p: p.oldest)


def oldest_unsynced(session: Session, scope: Scope | None = None) -> OldestUnsynced | None:
    row = session.execute(
        select(Beneficiary.ref, Dose.dose_number, Site.code, Dose.created_at, Dose.sync_error)
        .join(Beneficiary, Dose.beneficiary_id == Beneficiary.id).join(Site, Dose.site_id == Site.id)
        .where(Dose.sync_state.in_(UNSYNCED), *_in(scope)).order_by(Dose.created_at, Dose.id).limit(1)).first()
    return OldestUnsynced(row[0], row[1], row[2], as_utc(row[3]), row[4]) if row else None


def recent(moment: datetime, hours: int = 24) -> datetime:
    return moment - timedelta(hours=hours)


def chart_series(session: Session, day: date, tz: str, now: datetime, lang: str,
                 scope: Scope | None = None) -> tuple[list, bool]:
    """Each site's series for the charts against plan (tikabot/bot/charts.py), and whether every site
    with people booked has closed its session (END): then the day summary is the chart to show."""
    from tikabot.bot.charts import SiteSeries

    start, end = day_bounds(day, tz)
    statuses = site_statuses(session, day, tz, now=now, scope=scope)
    slots = _slots_by_site(session, day, [s.id for s in session.scalars(select(Site).where(*_in(scope)))])
    ids = dict(session.execute(select(Site.code, Site.id)).all())
    times: dict[int, list] = defaultdict(list)
    for site_id, moment in session.execute(select(Dose.site_id, Dose.administered_at).where(
            Dose.administered_at >= start, Dose.administered_at < end, Dose.voided.is_(False),
            *([] if scope is None or scope.everything else [Dose.site_id.in_(scope.site_ids)]))):
        times[site_id].append(as_utc(moment))
    def behind(status: SiteStatus) -> int:
        need = need_of(status, now)
        return round(status.expected) if need.not_started else need.behind_by

    series = [SiteSeries(s.code, s.name.localize(lang) if hasattr(s.name, "localize") else s.name,
                         times[ids[s.code]], slots.get(ids[s.code], []), s.due, behind(s))
              for s in statuses if s.due or times[ids[s.code]]]
    booked = [s for s in statuses if s.due]
    ended = bool(booked) and all(s.session is not None and s.session.closed_at is not None for s in booked)
    return series, ended
