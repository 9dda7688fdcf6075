"""`tikabot reconcile`: what differs between tikabot's dose records and the registry's.

The registry is asked twice: for every Immunization under tikabot's dose identifier system
(`identifier=SYSTEM|`), and for every Immunization of tikabot's beneficiaries (`patient:identifier`,
fifty a request), which finds what the registry holds that tikabot never sent. Each local dose is
then expected upstream once (completed; entered-in-error after an UNDO; a dose voided before it was
ever sent may be absent) with the same status, dose number and lot.
"""
from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import astuple, dataclass, fields
from typing import IO

from sqlalchemy import select
from sqlalchemy.orm import Session

from tikabot.registry.doses_csv import formula_safe
from tikabot.registry import resources as r
from tikabot.registry.client import FhirClient, FhirError
from tikabot.registry.records import DoseRecord, dose_records_query, load_records
from tikabot.store.models import Beneficiary

PATIENTS_PER_SEARCH = 50
PAGE = 500
MISSING, UPSTREAM_ONLY, DIFFERS, DUPLICATE = "missing upstream", "upstream only", "differs", "duplicate upstream"


@dataclass(frozen=True)
class Difference:
    kind: str
    ref: str
    dose: str
    dose_id: str
    field: str = ""
    tikabot: str = ""
    upstream: str = ""
    upstream_id: str = ""

    def line(self) -> str:
        what = f"{self.kind}: ref {self.ref} dose {self.dose}"
        if self.field:
            what += f" {self.field} tikabot {self.tikabot or '-'} upstream {self.upstream or '-'}"
        return what + (f" (upstream {self.upstream_id})" if self.upstream_id else "")


def dose_number(resource: dict) -> str:
    applied = resource.get("protocolApplied") or [{}]
    return str(applied[0].get("doseNumberPositiveInt") or applied[0].get("doseNumberString") or "")


def _fetch(client: FhirClient, params: dict) -> list[dict]:
    """A search, tried three times: a reconcile is read-only, so a retry is always safe."""
    for attempt in range(3):
        try:
            return client.search("Immunization", {**params, "_count": PAGE})
        except FhirError as error:
            if not error.retryable or attempt == 2:
                raise
    return []


def upstream_records(client: FhirClient, systems: r.Systems, refs: list[str]) -> dict[str, dict]:
    """Every Immunization upstream that is tikabot's or one of its beneficiaries', by upstream id."""
    found = {res["id"]: res for res in _fetch(client, {"identifier": f"{systems.dose}|"})}
    for start in range(0, len(refs), PATIENTS_PER_SEARCH):
        tokens = ",".join(f"{systems.beneficiary}|{ref}" for ref in refs[start:start + PATIENTS_PER_SEARCH])
        found.update((res["id"], res) for res in _fetch(client, {"patient:identifier": tokens}))
    return found


def _our_id(resource: dict, systems: r.Systems) -> str | None:
    return next((i.get("value") for i in resource.get("identifier") or [] if i.get("system") == systems.dose), None)


class _PatientRefs:
    """The beneficiary reference of an upstream record: from its Reference, else from its Patient."""

    def __init__(self, client: FhirClient, systems: r.Systems):
        self.client, self.systems, self.known = client, systems, {}

    def of(self, resource: dict) -> str:
        reference = resource.get("patient") or {}
        ident = reference.get("identifier") or {}
        if ident.get("system") == self.systems.beneficiary:
            return ident.get("value", "")
        target = reference.get("reference") or ""
        if target not in self.known:
            try:
                patient = self.client.read(*target.split("/", 1)).resource if "/" in target else {}
            except FhirError:
                patient = {}
            self.known[target] = next((i.get("value", "") for i in patient.get("identifier") or []
                                       if i.get("system") == self.systems.beneficiary), "")
        return self.known[target]


def compare(local: list[DoseRecord], upstream: dict[str, dict], systems: r.Systems,
            patient_ref=lambda resource: "") -> list[Difference]:
    ours = defaultdict(list)
    strangers = []
    for resource in upstream.values():
        dose_id = _our_id(resource, systems)
        (ours[dose_id].append(resource) if dose_id else strangers.append(resource))
    differences: list[Difference] = []
    local_ids = set()
    for rec in local:
        key = str(rec.dose_id)
        local_ids.add(key)
        there = ours.get(key, [])
        where = dict(ref=rec.ref, dose=str(rec.dose_number), dose_id=key)
        if not there:
            if not rec.voided:
                differences.append(Difference(MISSING, **where))
            continue
        for extra in there[1:]:
            differences.append(Difference(DUPLICATE, **where, upstream_id=extra["id"]))
        record = there[0]
        for name, mine, theirs in (("status", r.immunization_status(rec), record.get("status", "")),
                                   ("dose number", str(rec.dose_number), dose_number(record)),
                                   ("lot", rec.lot, record.get("lotNumber", ""))):
            if mine != theirs:
                differences.append(Difference(DIFFERS, **where, field=name, tikabot=mine, upstream=theirs,
                                              upstream_id=record["id"]))
    unknown = [res for dose_id, found in ours.items() if dose_id not in local_ids for res in found]
    for resource in strangers + unknown:
        if resource.get("status") == "entered-in-error":
            continue  # not a dose
        differences.append(Difference(UPSTREAM_ONLY, ref=patient_ref(resource), dose=dose_number(resource),
                                      dose_id=_our_id(resource, systems) or "", upstream=resource.get("status", ""),
                                      upstream_id=resource["id"]))
    return differences


def reconcile(session: Session, client: FhirClient, systems: r.Systems) -> tuple[int, list[Difference]]:
    """(local dose records compared, differences)."""
    local = load_records(session, dose_records_query())
    refs = list(session.scalars(select(Beneficiary.ref).order_by(Beneficiary.ref)))
    upstream = upstream_records(client, systems, refs)
    return len(local), compare(local, upstream, systems, _PatientRefs(client, systems).of)


def write_differences(differences: list[Difference], out: IO[str]) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([f.name for f in fields(Difference)])
    for difference in differences:
        writer.writerow([formula_safe(str(value)) for value in astuple(difference)])
