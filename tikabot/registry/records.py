"""What a FHIR resource is built from: one dose with its beneficiary, site and vaccinator, read once."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, select
from sqlalchemy.orm import Session

from tikabot.core.clock import as_utc
from tikabot.store.models import Beneficiary, Dose, Site, Staff


@dataclass(frozen=True)
class DoseRecord:
    dose_id: int
    ref: str
    name: str
    phone: str
    dose_number: int
    vaccine: str
    lot: str
    administered_at: datetime
    reported_at: datetime
    source: str
    voided: bool
    site_code: str
    site_name: str
    district: str
    state: str
    vaccinator_phone: str
    vaccinator_name: str | None
    sync_state: str
    upstream_id: str | None


def dose_records_query() -> Select:
    return (select(Dose, Beneficiary, Site, Staff.name)
            .join(Beneficiary, Dose.beneficiary_id == Beneficiary.id)
            .join(Site, Dose.site_id == Site.id)
            .outerjoin(Staff, and_(Staff.phone == Dose.vaccinator_phone, Dose.vaccinator_phone != ""))
            .order_by(Dose.administered_at, Dose.id))


def load_records(session: Session, query: Select) -> list[DoseRecord]:
    return [_record(dose, ben, site, staff_name) for dose, ben, site, staff_name in session.execute(query)]


def load_record(session: Session, dose_id: int) -> DoseRecord | None:
    found = load_records(session, dose_records_query().where(Dose.id == dose_id))
    return found[0] if found else None


def _record(dose: Dose, ben: Beneficiary, site: Site, staff_name: str | None) -> DoseRecord:
    return DoseRecord(
        dose_id=dose.id, ref=ben.ref, name=ben.name, phone=ben.phone, dose_number=dose.dose_number,
        vaccine=dose.vaccine, lot=dose.lot, administered_at=as_utc(dose.administered_at),
        reported_at=as_utc(dose.created_at), source=dose.source, voided=dose.voided, site_code=site.code,
        site_name=site.name, district=site.district or "", state=site.state or "",
        vaccinator_phone=dose.vaccinator_phone or "", vaccinator_name=staff_name, sync_state=dose.sync_state,
        upstream_id=dose.upstream_id)
