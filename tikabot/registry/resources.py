"""FHIR R4 resources for a dose (CONTRACT §10): pure functions from a DoseRecord to plain dicts.

References are left to the caller (`Refs`): the export Bundle points at its own `urn:uuid:` entries,
the sync at the ids the registry gave the Patient, Location and Practitioner.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from tikabot.registry.records import DoseRecord

SNOMED = "http://snomed.info/sct"
COVID_ANTIGEN = {"system": SNOMED, "code": "1119305005", "display": "COVID-19 antigen vaccine"}
ORIGIN = "http://terminology.hl7.org/CodeSystem/immunization-origin"
PERFORMER_FUNCTION = "http://terminology.hl7.org/CodeSystem/v2-0443"
STABLE = uuid.UUID("6f0d9f0e-3b7a-5c1e-9a55-71ab2c0f1e17")  # namespace of every urn:uuid tikabot writes


@dataclass(frozen=True)
class Systems:
    """Identifier systems, from one base (TIKABOT_FHIR_SYSTEM, `urn:tikabot` by default)."""
    dose: str
    beneficiary: str
    site: str
    staff: str
    vaccine: str

    @classmethod
    def under(cls, system_for) -> "Systems":
        return cls(*(system_for(kind) for kind in ("dose", "beneficiary", "site", "staff", "vaccine")))


@dataclass(frozen=True)
class Refs:
    """References from an Immunization to its Patient, Location and Practitioner (None: no vaccinator)."""
    patient: dict
    location: dict
    performer: dict | None


def identifier(system: str, value: str) -> dict:
    return {"system": system, "value": value}


def search_token(ident: dict) -> str:
    """`system|value`, as FHIR search and If-None-Exist write an identifier."""
    return f"{ident['system']}|{ident['value']}"


def stable_urn(ident: dict) -> str:
    """The same urn:uuid for the same identifier in every export."""
    return f"urn:uuid:{uuid.uuid5(STABLE, search_token(ident))}"


def dose_identifier(rec: DoseRecord, systems: Systems) -> dict:
    return identifier(systems.dose, str(rec.dose_id))


def patient_identifier(rec: DoseRecord, systems: Systems) -> dict:
    return identifier(systems.beneficiary, rec.ref)


def location_identifier(rec: DoseRecord, systems: Systems) -> dict:
    return identifier(systems.site, rec.site_code)


def practitioner_identifier(rec: DoseRecord, systems: Systems) -> dict | None:
    return identifier(systems.staff, rec.vaccinator_phone) if rec.vaccinator_phone else None


def patient(rec: DoseRecord, systems: Systems) -> dict:
    resource = {"resourceType": "Patient", "identifier": [patient_identifier(rec, systems)],
                "name": [{"text": rec.name}]}
    if rec.phone:
        resource["telecom"] = [{"system": "phone", "value": rec.phone, "use": "mobile"}]
    return resource


def location(rec: DoseRecord, systems: Systems) -> dict:
    resource = {"resourceType": "Location", "identifier": [location_identifier(rec, systems)],
                "status": "active", "name": rec.site_name or rec.site_code}
    address = {k: v for k, v in (("district", rec.district), ("state", rec.state)) if v}
    resource["address"] = {**address, "country": "IN"}
    return resource


def practitioner(rec: DoseRecord, systems: Systems) -> dict | None:
    ident = practitioner_identifier(rec, systems)
    if ident is None:
        return None
    resource = {"resourceType": "Practitioner", "identifier": [ident],
                "telecom": [{"system": "phone", "value": rec.vaccinator_phone, "use": "work"}]}
    if rec.vaccinator_name:
        resource["name"] = [{"text": rec.vaccinator_name}]
    return resource


def immunization_status(rec: DoseRecord) -> str:
    return "entered-in-error" if rec.voided else "completed"


def immunization(rec: DoseRecord, systems: Systems, refs: Refs, tz: str) -> dict:
    zone = ZoneInfo(tz)
    resource = {
        "resourceType": "Immunization",
        "identifier": [dose_identifier(rec, systems)],
        "status": immunization_status(rec),
        "vaccineCode": {"coding": [COVID_ANTIGEN, {"system": systems.vaccine, "code": rec.vaccine,
                                                   "display": rec.vaccine}],
                        "text": rec.vaccine},
        "patient": refs.patient,
        "occurrenceDateTime": rec.administered_at.astimezone(zone).isoformat(timespec="seconds"),
        "recorded": rec.reported_at.astimezone(zone).isoformat(timespec="seconds"),
        "primarySource": rec.source != "paper",
        "location": refs.location,
        "lotNumber": rec.lot,
        "protocolApplied": [{"doseNumberPositiveInt": rec.dose_number}],
    }
    if rec.source == "paper":  # transcribed from the site's written register
        resource["reportOrigin"] = {"coding": [{"system": ORIGIN, "code": "record", "display": "Written Record"}]}
    if refs.performer is not None:
        resource["performer"] = [{"function": {"coding": [{"system": PERFORMER_FUNCTION, "code": "AP",
                                                           "display": "Administering Provider"}]},
                                  "actor": refs.performer}]
    return resource
