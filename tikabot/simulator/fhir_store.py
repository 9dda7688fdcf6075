"""The simulated registry's records: FHIR resources by type and id, and what a test counts on them."""
from __future__ import annotations

import copy
import itertools
import threading
from collections import Counter, defaultdict
from typing import Callable
from datetime import datetime, timezone

TYPES = ("Patient", "Location", "Practitioner", "Immunization")


def _token_matches(identifiers: list[dict], token: str) -> bool:
    """FHIR token search on identifiers: `system|value`, `system|` (any value), `|value`, `value`."""
    if "|" in token:
        system, value = token.split("|", 1)
        return any((not system or i.get("system") == system) and (not value or i.get("value") == value)
                   and (system or value) for i in identifiers)
    return any(i.get("value") == token for i in identifiers)


def any_token(identifiers: list[dict], tokens: str) -> bool:
    """A comma in a search value is OR."""
    return any(_token_matches(identifiers, token) for token in tokens.split(","))


class FhirStore:
    """Thread-safe: the server loop writes, tests in other threads read."""

    def __init__(self) -> None:
        self._lock = threading.RLock()  # find() callers may read other records
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._by_type: dict[str, dict[str, dict]] = {t: {} for t in TYPES}
            # (type, system, value) -> ids: a conditional create looks up one identifier, not every record
            self._by_identifier: dict[tuple, set[str]] = defaultdict(set)
            self._ids = itertools.count(1)
            self._counts: Counter = Counter()
            self.in_flight = getattr(self, "in_flight", 0)  # requests on their way survive a reset

    def _store(self, resource_type: str, stored: dict) -> None:
        old = self._by_type[resource_type].get(stored["id"])
        for ident in (old or {}).get("identifier") or []:
            self._by_identifier[(resource_type, ident.get("system"), ident.get("value"))].discard(stored["id"])
        for ident in stored.get("identifier") or []:
            self._by_identifier[(resource_type, ident.get("system"), ident.get("value"))].add(stored["id"])
        self._by_type[resource_type][stored["id"]] = stored

    def enter(self) -> None:
        """A request begins: tests wait for `in_flight` to reach 0 (a timeout fault is still asleep)."""
        with self._lock:
            self.in_flight += 1

    def leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def count(self, name: str) -> None:
        with self._lock:
            self._counts[name] += 1

    def _stamp(self, resource_type: str, resource: dict, resource_id: str, version: int) -> dict:
        stored = copy.deepcopy(resource)
        stored.update(resourceType=resource_type, id=resource_id)
        stored["meta"] = {"versionId": str(version),
                          "lastUpdated": datetime.now(timezone.utc).isoformat(timespec="milliseconds")}
        return stored

    def create(self, resource_type: str, resource: dict) -> dict:
        with self._lock:
            resource_id = str(next(self._ids))
            stored = self._stamp(resource_type, resource, resource_id, 1)
            self._store(resource_type, stored)
            self._counts[f"{resource_type}_created"] += 1
            return copy.deepcopy(stored)

    def put(self, resource_type: str, resource_id: str, resource: dict) -> tuple[dict, bool]:
        """(stored, created): an update, or a create with the client's id."""
        with self._lock:
            old = self._by_type[resource_type].get(resource_id)
            version = int(old["meta"]["versionId"]) + 1 if old else 1
            stored = self._stamp(resource_type, resource, resource_id, version)
            self._store(resource_type, stored)
            self._counts[f"{resource_type}_{'updated' if old else 'created'}"] += 1
            return copy.deepcopy(stored), old is None

    def delete(self, resource_type: str, resource_id: str) -> bool:
        with self._lock:
            old = self._by_type[resource_type].pop(resource_id, None)
            for ident in (old or {}).get("identifier") or []:
                self._by_identifier[(resource_type, ident.get("system"), ident.get("value"))].discard(resource_id)
            if old:
                self._counts[f"{resource_type}_deleted"] += 1
            return old is not None

    def get(self, resource_type: str, resource_id: str) -> dict | None:
        with self._lock:
            found = self._by_type[resource_type].get(resource_id)
            return copy.deepcopy(found) if found else None

    def all(self, resource_type: str) -> list[dict]:
        with self._lock:
            return [copy.deepcopy(r) for r in self._by_type[resource_type].values()]

    def find(self, resource_type: str, matches: Callable[[dict], bool]) -> list[dict]:
        """The records `matches` accepts, read-only: a stored record is replaced, never changed in
        place, so each is a snapshot; a search copies only the page it answers with."""
        with self._lock:
            return [r for r in self._by_type[resource_type].values() if matches(r)]

    def with_identifier(self, resource_type: str, tokens: str) -> list[dict]:
        """Read-only snapshots, as find()."""
        exact = [t.split("|", 1) for t in tokens.split(",")]
        if all(len(t) == 2 and t[0] and t[1] for t in exact):
            with self._lock:
                ids = sorted({i for system, value in exact
                              for i in self._by_identifier.get((resource_type, system, value), ())},
                             key=lambda i: (len(i), i))
                return [self._by_type[resource_type][i] for i in ids]
        return self.find(resource_type, lambda r: any_token(r.get("identifier") or [], tokens))

    def duplicates(self, resource_type: str = "Immunization") -> int:
        """Records beyond the first that carry the same identifier: what a retry must never make."""
        with self._lock:
            return sum(len(ids) - 1 for key, ids in self._by_identifier.items()
                       if key[0] == resource_type and len(ids) > 1)

    def stats(self) -> dict:
        with self._lock:
            sizes = {t: len(v) for t, v in self._by_type.items()}
            counts = dict(self._counts)
            by_type = {t: self.duplicates(t) for t in TYPES}
        return {"resources": sizes, "counts": counts, "duplicates": by_type["Immunization"],
                "duplicates_by_type": by_type}
