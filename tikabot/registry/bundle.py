"""`tikabot export doses --format fhir`: one FHIR R4 `collection` Bundle of Immunizations with the
Patients, Locations and Practitioners they refer to, each once, under stable `urn:uuid:` fullUrls."""
from __future__ import annotations

import json
from datetime import datetime
from typing import IO, Iterable

from tikabot.registry import resources as r
from tikabot.registry.records import DoseRecord


def _ref(resource: dict) -> dict:
    ident = resource["identifier"][0]
    return {"reference": r.stable_urn(ident), "identifier": ident}


def build_bundle(records: Iterable[DoseRecord], systems: r.Systems, tz: str, now: datetime) -> dict:
    shared: dict[str, dict] = {}  # fullUrl -> Patient / Location / Practitioner, first seen first
    immunizations = []
    for rec in records:
        refs = []
        for made in (r.patient(rec, systems), r.location(rec, systems), r.practitioner(rec, systems)):
            if made is None:
                refs.append(None)
                continue
            ref = _ref(made)
            shared.setdefault(ref["reference"], made)
            refs.append(ref)
        resource = r.immunization(rec, systems, r.Refs(*refs), tz)
        immunizations.append({"fullUrl": r.stable_urn(resource["identifier"][0]), "resource": resource})
    entries = immunizations + [{"fullUrl": url, "resource": res} for url, res in shared.items()]
    bundle = {"resourceType": "Bundle", "type": "collection", "timestamp": now.isoformat(timespec="seconds")}
    if entries:  # FHIR JSON has no empty arrays
        bundle["entry"] = entries
    return bundle


def immunization_count(bundle: dict) -> int:
    return sum(1 for e in bundle.get("entry", ()) if e["resource"]["resourceType"] == "Immunization")


def write_bundle(bundle: dict, out: IO[str]) -> int:
    """The Bundle as JSON (UTF-8 text kept readable); the number of Immunizations written."""
    json.dump(bundle, out, ensure_ascii=False, indent=1)
    out.write("\n")
    return immunization_count(bundle)
