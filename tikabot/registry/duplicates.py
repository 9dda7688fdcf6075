"""Find, and merge, the Patients, Practitioners and Locations that an earlier tikabot made twice.

Before the If-None-Exist header was URL-encoded, a registry read the `+` of a phone as a space, so
every sync pass made the vaccinator's Practitioner again (and any identifier with `+`, `&` or `%`
likewise). A merge keeps the oldest record of each identifier, points every tikabot Immunization
that names a younger one at the one kept, then deletes the younger ones: nothing a dose record
refers to is lost. Immunizations sharing a dose id are only reported (`tikabot reconcile` tells
which one tikabot knows).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from tikabot.registry.client import FhirClient
from tikabot.registry.resources import Systems

KINDS = (("Patient", "beneficiary"), ("Practitioner", "staff"), ("Location", "site"), ("Immunization", "dose"))
REFERENCES = {"Patient": ("patient",), "Location": ("location",), "Practitioner": ("performer", "actor")}


@dataclass(frozen=True)
class Duplicate:
    resource_type: str
    system: str
    value: str
    keep: str            # id of the record kept (the oldest)
    extra: tuple[str, ...]  # ids of the others

    def line(self, mask) -> str:
        shown = mask(self.value) if self.resource_type == "Practitioner" else self.value
        return (f"{self.resource_type} {self.system}|{shown}: {1 + len(self.extra)} records, "
                f"keep {self.keep}, extra {', '.join(self.extra)}")


def _oldest_first(resource: dict) -> tuple:
    meta = resource.get("meta") or {}
    return (meta.get("lastUpdated") or "", resource["id"])


def find(client: FhirClient, systems: Systems) -> list[Duplicate]:
    """Every identifier of ours that more than one record of its type carries."""
    found = []
    for resource_type, kind in KINDS:
        system = getattr(systems, kind)
        groups: dict[str, list[dict]] = defaultdict(list)
        for resource in client.search(resource_type, {"identifier": f"{system}|", "_count": "1000"}):
            for ident in resource.get("identifier") or []:
                if ident.get("system") == system and ident.get("value"):
                    groups[ident["value"]].append(resource)
        for value, records in sorted(groups.items()):
            if len(records) > 1:
                records.sort(key=_oldest_first)
                found.append(Duplicate(resource_type, system, value, records[0]["id"],
                                       tuple(r["id"] for r in records[1:])))
    return found


def _repoint(immunization: dict, moves: dict[str, str]) -> bool:
    """Rewrite references to an extra record into references to the kept one; True if any changed."""
    changed = False
    targets = [immunization.get("patient"), immunization.get("location")]
    targets += [p.get("actor") for p in immunization.get("performer") or []]
    for ref in targets:
        if ref and ref.get("reference") in moves:
            ref["reference"] = moves[ref["reference"]]
            changed = True
    return changed


def merge(client: FhirClient, systems: Systems, duplicates: list[Duplicate]) -> tuple[int, int]:
    """(Immunizations repointed, records deleted). Immunization duplicates are left alone."""
    moves = {f"{d.resource_type}/{extra}": f"{d.resource_type}/{d.keep}"
             for d in duplicates if d.resource_type in REFERENCES for extra in d.extra}
    if not moves:
        return 0, 0
    repointed = 0
    for immunization in client.search("Immunization", {"identifier": f"{systems.dose}|", "_count": "1000"}):
        if _repoint(immunization, moves):
            immunization.pop("meta", None)
            client.update(immunization)
            repointed += 1
    for reference in moves:
        resource_type, resource_id = reference.split("/")
        client.delete(resource_type, resource_id)
    return repointed, len(moves)
