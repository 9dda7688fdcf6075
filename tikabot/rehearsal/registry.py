"""The rehearsal's last act: every dose to the simulator's FHIR registry, then a reconcile.

The workers have been syncing all day (UPSTREAM_FHIR_BASE points at the simulator, with its
faults); this final sync sends what is left, waiting for retries, and the simulator's own records
say whether any dose reached the registry twice.
"""
from __future__ import annotations

import requests
from sqlalchemy import func, select

from tikabot.registry.client import FhirClient, FhirError
from tikabot.registry.reconcile import reconcile
from tikabot.registry.resources import Systems
from tikabot.registry.settings import RegistrySettings
from tikabot.registry.sync import sync
from tikabot.store.models import Dose

FINAL_SYNC_WAIT_S = 120
EXAMPLES = 5


def sync_and_reconcile(sessions, sim_url: str, tz: str, timeout_s: float, system: str) -> dict:
    settings = RegistrySettings(base_url=f"{sim_url}/fhir", system=system, timeout_s=timeout_s, retry_base_s=0.3,
                                retry_cap_s=5)
    client = FhirClient(settings.base_url, timeout_s=timeout_s)
    try:
        result = sync(sessions, client, settings, tz, wait_s=FINAL_SYNC_WAIT_S)
        with sessions() as session:
            states = dict(session.execute(select(Dose.sync_state, func.count()).group_by(Dose.sync_state)).all())
            try:
                _, differences = reconcile(session, client, Systems.under(settings.system_for))
            except FhirError as exc:
                differences = None
                reason = exc.reason
    finally:
        client.close()
    upstream = requests.get(f"{sim_url}/_sim/fhir", timeout=30).json()
    report = {"doses": sum(states.values()), "synced": states.get("synced", 0), "by_state": states,
              "final_sync": dict(result.outcomes), "upstream_immunizations": upstream["resources"]["Immunization"],
              "duplicates_upstream": upstream["duplicates"], "upstream_faults": {
                  k: v for k, v in upstream["counts"].items() if k.startswith("fault_")}}
    if differences is None:
        report["differences"], report["reconcile_error"] = -1, reason
    else:
        report["differences"] = len(differences)
        report["difference_examples"] = [d.line() for d in differences[:EXAMPLES]]
    return report


def registry_invariants(registry: dict) -> list[str]:
    if not registry:
        return []
    broken = []
    if registry["synced"] != registry["doses"]:
        broken.append(f"synced {registry['synced']} of {registry['doses']} dose records to the registry")
    if registry["duplicates_upstream"]:
        broken.append(f"{registry['duplicates_upstream']} duplicate records upstream")
    if registry["differences"]:
        broken.append("reconcile: " + (registry.get("reconcile_error") or f"{registry['differences']} differences, "
                                       f"e.g. {registry['difference_examples'][0]}"))
    return broken
