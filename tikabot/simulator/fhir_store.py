"""The simulated registry's records: FHIR resources by type and id, and what a test counts on them."""
from __future__ import annotations

import copy
import itertools
import threading
from collections import Counter
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
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._by_type: dict[str, dict[str, dict]] = {t: {} for t in TYPES}
            self._ids = itertools.count(1)
            self._counts: Counter = Counter()

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
            self._by_type[resource_type][resource_id] = stored
            self._counts[f"{resource_type}_created"] += 1
            return copy.deepcopy(stored)

    def put(self, resource_type: str, resource_id: str, resource: dict) -> tuple[dict, bool]:
        """(stored, created): an update, or a create with the client's id."""
        with self._lock:
            old = self._by_type[resource_type].get(resource_id)
            version = int(old["meta"]["versionId"]) + 1 if old else 1
            stored = self._stamp(resource_type, resource, resource_id, version)
            self._by_type[resource_type][resource_id] = stored
            self._counts[f"{resource_type}_{'updated' if old else 'created'}"] += 1
            return copy.deepcopy(stored), old is None

    def get(self, resource_type: str, resource_id: str) -> dict | None:
        with self._lock:
            found = self._by_type[resource_type].get(resource_id)
            return copy.deepcopy(found) if found else None

    def all(self, resource_type: str) -> list[dict]:
        with self._lock:
            return [copy.deepcopy(r) for r in self._by_type[resource_type].values()]

    def with_identifier(self, resource_type: str, tokens: str) -> list[dict]:
        return [r for r in self.all(resource_type) if any_token(r.get("identifier") or [], tokens)]

    def duplicates(self, resource_type: str = "Immunization") -> int:
        """Records beyond the first that carry the same identifier: what a retry must never make."""
        seen = Counter((i.get("system"), i.get("value")) for r in self.all(resource_type)
                       for i in r.get("identifier") or [])
        return sum(n - 1 for n in seen.values() if n > 1)

    def stats(self) -> dict:
        with self._lock:
            sizes = {t: len(v) for t, v in self._by_type.items()}
            counts = dict(self._counts)
        return {"resources": sizes, "counts": counts, "duplicates": self.duplicates()}
