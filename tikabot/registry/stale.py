"""Records the registry has not taken for too long: the check that alerts coordinators, once a day and
grouped, about records unsynced for over a day (run after each sync pass, tikabot/tasks/registry.py);
and the registry client a process makes from its settings."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from tikabot.core import clock
from tikabot.alerts.coordinators import alert_coordinators
from tikabot.registry.client import FhirClient
from tikabot.registry.settings import RegistrySettings
from tikabot.store.models import Beneficiary, Dose, OutboundMessage, Site

UNSYNCED = ("pending", "correction_pending", "failed")
MAX_SITES = 8


def make_client(settings: RegistrySettings) -> FhirClient:
    return FhirClient(settings.base_url, timeout_s=settings.timeout_s, token=settings.token)


def stale_filter(now: datetime, settings: RegistrySettings):
    cutoff = now - timedelta(seconds=settings.stale_s)
    return and_(Dose.sync_state.in_(UNSYNCED),
                or_(and_(Dose.sync_state == "correction_pending", Dose.voided_at <= cutoff),
                    and_(Dose.sync_state != "correction_pending", Dose.created_at <= cutoff)))


def check_stale(session: Session, now: datetime, tz: str, settings: RegistrySettings) -> list[OutboundMessage]:
    """One grouped alert a local day while any record has waited longer than `stale_s`."""
    where = stale_filter(now, settings)
    count = session.scalar(select(func.count()).select_from(Dose).where(where)) or 0
    if not count:
        return []
    sites = list(session.scalars(select(Site.code).join(Dose, Dose.site_id == Site.id).where(where)
                                 .group_by(Site.code).order_by(Site.code)))
    ref, number, since = session.execute(
        select(Beneficiary.ref, Dose.dose_number, Dose.created_at)
        .join(Beneficiary, Dose.beneficiary_id == Beneficiary.id)
        .where(where).order_by(Dose.created_at, Dose.id).limit(1)).one()
    more = len(sites) - MAX_SITES
    day = clock.local_date(now, tz)
    oldest = clock.as_utc(since).astimezone(ZoneInfo(tz))
    return alert_coordinators(session, key=f"sync-stale-{day:%Y%m%d}", template="alert.sync_stale", params={
        "count": count, "sites": ", ".join(sites[:MAX_SITES]) + (f" +{more}" if more > 0 else ""),
        "ref": ref, "dose": number, "date": f"{clock.short_date(oldest.date())} {oldest:%H:%M}"})
