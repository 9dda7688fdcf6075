"""`tikabot export doses`: the doses CSV of CONTRACT §7, safe to open in a spreadsheet."""
from __future__ import annotations

import csv
from datetime import date
from typing import IO
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from tikabot.clock import as_utc, day_bounds
from tikabot.store.models import Beneficiary, Dose, Site

COLUMNS = ("ref", "dose", "vaccine", "lot", "site_code", "administered_at", "vaccinator_phone", "source")
FORMULA_STARTS = ("=", "+", "-", "@")


def formula_safe(text: str) -> str:
    """A cell starting like a formula is prefixed with ' so a spreadsheet shows it as text."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def export_doses(session: Session, out: IO[str], tz: str, day: date | None = None,
                 site_code: str | None = None, include_voided: bool = False) -> int:
    query = (select(Dose, Beneficiary.ref, Site.code)
             .join(Beneficiary, Dose.beneficiary_id == Beneficiary.id)
             .join(Site, Dose.site_id == Site.id)
             .order_by(Dose.administered_at, Dose.id))
    query = query.where(*dose_filters(tz, day, site_code, include_voided))
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    zone = ZoneInfo(tz)
    count = 0
    for dose, ref, code in session.execute(query):
        writer.writerow([ref, dose.dose_number, formula_safe(dose.vaccine), formula_safe(dose.lot), code,
                         as_utc(dose.administered_at).astimezone(zone).isoformat(timespec="seconds"),
                         dose.vaccinator_phone, dose.source])
        count += 1
    return count


def dose_filters(tz: str, day: date | None = None, site_code: str | None = None,
                 include_voided: bool = False) -> list:
    """The export's filters (CSV and FHIR alike), on a query that joins Dose and Site."""
    filters = []
    if day is not None:
        start, end = day_bounds(day, tz)
        filters += [Dose.administered_at >= start, Dose.administered_at < end]
    if site_code:
        filters.append(Site.code == site_code.upper())
    if not include_voided:
        filters.append(Dose.voided.is_(False))
    return filters
