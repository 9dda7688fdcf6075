"""`tikabot export doses`: the doses CSV of CONTRACT §7, safe to open in a spreadsheet.

The columns a doses import reads come first; what reconciliation with the national portal needs
comes at the end (older readers keep working): voided (yes/no), verified (otp, security_code or
none: the beneficiary's last successful check on the dose's day, before it was given), name,
category, and reported_at (when tikabot recorded the dose). Importing an export back changes nothing.
"""
from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date, datetime
from typing import IO, Collection
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from tikabot.core.clock import as_utc, day_bounds
from tikabot.codes.otp import VERIFIED
from tikabot.core.spreadsheet import formula_safe
from tikabot.store.models import AuditLog, Beneficiary, Dose, OtpRecord, Site

COLUMNS = ("ref", "dose", "vaccine", "lot", "site_code", "administered_at", "vaccinator_phone", "source",
           "voided", "verified", "name", "category", "reported_at")


def export_doses(session: Session, out: IO[str], tz: str, day: date | None = None,
                 site_code: str | None = None, include_voided: bool = False,
                 site_ids: Collection[int] | None = None) -> int:
    """Doses as CSV; `site_ids`, when given, keeps only those sites' (a coordinator's scope)."""
    query = (select(Dose, Beneficiary.ref, Site.code, Beneficiary.name, Beneficiary.category)
             .join(Beneficiary, Dose.beneficiary_id == Beneficiary.id)
             .join(Site, Dose.site_id == Site.id)
             .order_by(Dose.administered_at, Dose.id))
    bounds = day_bounds(day, tz) if day is not None else None
    query = query.where(*dose_filters(tz, day, site_code, include_voided))
    if site_ids is not None:
        query = query.where(Dose.site_id.in_(list(site_ids)))
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    zone = ZoneInfo(tz)
    checks = Verifications(session, zone, bounds)
    count = 0
    for dose, ref, code, name, category in session.execute(query):
        writer.writerow([ref, dose.dose_number, formula_safe(dose.vaccine), formula_safe(dose.lot), code,
                         _local(dose.administered_at, zone), dose.vaccinator_phone, dose.source,
                         "yes" if dose.voided else "no", checks.method(dose), formula_safe(name),
                         formula_safe(category), _local(dose.created_at, zone)])
        count += 1
    return count


def _local(moment: datetime, zone: ZoneInfo) -> str:
    return as_utc(moment).astimezone(zone).isoformat(timespec="seconds")


class Verifications:
    """Successful checks by beneficiary: the audit log's (with their method), and for checks made
    before it kept them, each OTP's used_at (an OTP)."""

    def __init__(self, session: Session, zone: ZoneInfo, bounds: tuple[datetime, datetime] | None):
        self.zone = zone
        by_time: dict[int, dict[datetime, str]] = defaultdict(dict)
        otps = select(OtpRecord.beneficiary_id, OtpRecord.used_at).where(OtpRecord.used_at.is_not(None))
        audit = select(AuditLog.actor, AuditLog.at, AuditLog.detail).where(AuditLog.action == VERIFIED)
        if bounds is not None:
            otps = otps.where(OtpRecord.used_at >= bounds[0], OtpRecord.used_at < bounds[1])
            audit = audit.where(AuditLog.at >= bounds[0], AuditLog.at < bounds[1])
        for beneficiary_id, at in session.execute(otps):
            by_time[beneficiary_id][as_utc(at)] = "otp"
        for actor, at, detail in session.execute(audit):  # the audit's method wins at the same moment
            by_time[int(actor.partition(":")[2])][as_utc(at)] = (detail or {}).get("method", "otp")
        self.checks = {b: sorted(times.items()) for b, times in by_time.items()}

    def method(self, dose: Dose) -> str:
        given = as_utc(dose.administered_at)
        day = given.astimezone(self.zone).date()
        found = "none"
        for at, method in self.checks.get(dose.beneficiary_id, ()):
            if at > given:
                break
            if at.astimezone(self.zone).date() == day:
                found = method
        return found


# The days whose local bounds exist as datetimes in every time zone: 0001-01-01 and 9999-12-31
# overflow when turned into UTC instants (their day would start or end outside datetime's range).
FIRST_DAY, LAST_DAY = date(1, 1, 2), date(9999, 12, 30)


class BadDay(ValueError):
    """A day no dose can have been given on (its bounds are outside what a datetime holds)."""


def check_day(day: date) -> date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise BadDay(f"date {day.isoformat()} is out of range ({FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()})")
    return day


def dose_filters(tz: str, day: date | None = None, site_code: str | None = None,
                 include_voided: bool = False) -> list:
    """The export's filters (CSV and FHIR alike), on a query that joins Dose and Site."""
    filters = []
    if day is not None:
        start, end = day_bounds(check_day(day), tz)
        filters += [Dose.administered_at >= start, Dose.administered_at < end]
    if site_code:
        filters.append(Site.code == site_code.upper())
    if not include_voided:
        filters.append(Dose.voided.is_(False))
    return filters
