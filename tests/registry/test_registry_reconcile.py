"""`tikabot reconcile`: each kind of difference between tikabot and the registry is found."""
from __future__ import annotations

import io

from sqlalchemy import select

from tests.support.worlds.registry import VACCINATOR, doses, give_rahima_her_dose
from tikabot.registry import resources as r
from tikabot.registry.reconcile import reconcile, write_differences
from tikabot.store.models import Dose

SYSTEMS = r.Systems.under(lambda kind: f"urn:tikabot:{kind}")


def run(world, fhir):
    with world.sessions() as s:
        return reconcile(s, fhir, SYSTEMS)


def test_after_a_sync_nothing_differs_even_with_an_undone_dose(world, say, upstream, sync_now, fhir):
    give_rahima_her_dose(say)
    sync_now()
    assert say(VACCINATOR, "UNDO", minutes=1).startswith("Removed from the record")
    sync_now()
    assert run(world, fhir) == (3, [])


def test_each_kind_of_difference_is_found(world, say, upstream, sync_now, fhir):
    sync_now()
    local = doses(world)
    lata, jiban = local["34567890/1"], local["45678901/1"]
    store = upstream.sim.fhir
    changed = store.get("Immunization", jiban.upstream_id)
    changed.update(lotNumber="L-OTHER", status="not-done", protocolApplied=[{"doseNumberPositiveInt": 2}])
    store.put("Immunization", jiban.upstream_id, changed)
    store.create("Immunization", store.get("Immunization", lata.upstream_id))  # the same identifier twice
    lata_patient = store.get("Immunization", lata.upstream_id)["patient"]["reference"]
    store.create("Immunization", {"resourceType": "Immunization", "status": "completed",  # from another app
                                  "identifier": [{"system": "urn:other-app", "value": "A-1"}],
                                  "vaccineCode": {"text": "COVISHIELD"}, "occurrenceDateTime": "2025-05-01",
                                  "patient": {"reference": lata_patient},
                                  "protocolApplied": [{"doseNumberPositiveInt": 2}]})
    give_rahima_her_dose(say)  # not synced yet
    compared, differences = run(world, fhir)
    found = {(d.kind, d.ref, d.field, d.tikabot, d.upstream) for d in differences}
    assert compared == 3
    assert found == {
        ("missing upstream", "12345678", "", "", ""),
        ("differs", "45678901", "status", "completed", "not-done"),
        ("differs", "45678901", "dose number", "1", "2"),
        ("differs", "45678901", "lot", "L2", "L-OTHER"),
        ("duplicate upstream", "34567890", "", "", ""),
        ("upstream only", "34567890", "", "", "completed"),
    }
    out = io.StringIO()
    write_differences(differences, out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "kind,ref,dose,dose_id,field,tikabot,upstream,upstream_id" and len(lines) == 7


def test_a_voided_dose_the_registry_never_had_is_no_difference(world, say, upstream, sync_now, fhir):
    sync_now()
    give_rahima_her_dose(say)
    say(VACCINATOR, "UNDO", minutes=1)
    with world.sessions() as s:
        assert s.scalar(select(Dose.sync_state).where(Dose.voided.is_(True))) == "pending"
    assert run(world, fhir)[1] == []
