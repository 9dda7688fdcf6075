"""`tikabot sync` against the simulator's FHIR registry: nothing doubled upstream, whatever fails."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from fhir.resources.R4B.immunization import Immunization
from sqlalchemy import select

from tests.support.worlds.registry import VACCINATOR, doses, give_rahima_her_dose, immunizations
from tests.support.worlds.small_district import NOW
from tikabot.registry import sync as sync_module
from tikabot.store.models import Dose


def test_every_dose_reaches_the_registry_once_with_its_patient_site_and_vaccinator(world, say, upstream, sync_now):
    give_rahima_her_dose(say)
    result = sync_now()
    assert result.outcomes["created"] == 3 and result.done == 3
    stored = {i["identifier"][0]["value"]: i for i in immunizations(upstream)}
    local = doses(world)
    assert set(stored) == {str(d.id) for d in local.values()}
    for dose in local.values():
        assert (dose.sync_state, dose.upstream_id) == ("synced", stored[str(dose.id)]["id"])
        Immunization.model_validate({k: v for k, v in stored[str(dose.id)].items() if k != "meta"})
    rahima = stored[str(local["12345678/1"].id)]
    assert rahima["primarySource"] is True and rahima["lotNumber"] == "4120Z025"
    assert rahima["performer"][0]["actor"]["reference"].startswith("Practitioner/")
    patient = upstream.sim.fhir.get("Patient", rahima["patient"]["reference"].split("/")[1])
    assert patient["identifier"][0]["value"] == "12345678"
    assert patient["telecom"][0]["value"] == "+919830011111"
    assert {p["identifier"][0]["value"] for p in upstream.sim.fhir.all("Patient")} == {"12345678", "34567890",
                                                                                      "45678901"}
    assert len(upstream.sim.fhir.all("Location")) == 1
    assert sync_now().done == 0  # nothing left to send


def test_paper_records_sync_as_not_a_primary_source(world, upstream, sync_now):
    sync_now()
    assert [i["primarySource"] for i in immunizations(upstream)] == [False, False]
    assert {i["reportOrigin"]["coding"][0]["code"] for i in immunizations(upstream)} == {"record"}


def test_a_crash_between_the_registrys_answer_and_our_commit_makes_no_second_record(world, upstream, sync_now,
                                                                                     monkeypatch):
    def crash(*args, **kwargs):
        raise RuntimeError("killed before the commit")

    monkeypatch.setattr(sync_module, "record_success", crash)
    with pytest.raises(RuntimeError):
        sync_now()
    assert len(immunizations(upstream)) == 1 and doses(world)["34567890/1"].sync_state == "pending"
    monkeypatch.undo()
    result = sync_now()
    assert result.outcomes["existing"] == 1 and result.outcomes["created"] == 1
    assert len(immunizations(upstream)) == 2 and upstream.sim.fhir.duplicates() == 0
    assert all(d.sync_state == "synced" for d in doses(world).values())


@pytest.mark.parametrize("fault", ["500-written", "timeout-written", "500", "timeout", "429"])
def test_a_lost_or_refused_answer_is_retried_and_never_doubles_upstream(world, upstream, sync_now, fault):
    upstream.sim.configure(fhir_next_faults=[f"{fault}@Immunization"])
    first = sync_now()
    assert first.outcomes["retry"] == 1 and first.next_retry_at is not None
    waiting = next(d for d in doses(world).values() if d.sync_state == "pending")
    assert waiting.sync_attempts == 1 and waiting.sync_next_at is not None
    assert "no answer within" in waiting.sync_error or "HTTP 5" in waiting.sync_error or "HTTP 429" in waiting.sync_error
    second = sync_now(now=lambda: waiting.sync_next_at + timedelta(seconds=1))
    assert second.done == 1
    assert len(immunizations(upstream)) == 2 and upstream.sim.fhir.duplicates() == 0
    assert all(d.sync_state == "synced" and d.sync_attempts == 0 for d in doses(world).values())


def test_a_retry_waits_for_its_back_off(world, upstream, sync_now):
    upstream.sim.configure(fhir_next_faults=["500@Immunization"])
    sync_now()
    waiting = next(d for d in doses(world).values() if d.sync_state == "pending")
    assert sync_now(now=lambda: waiting.sync_next_at - timedelta(seconds=1)).done == 0


def test_a_refusal_is_kept_with_the_registrys_reason_and_not_sent_again_until_asked(world, upstream, sync_now):
    upstream.sim.configure(fhir_next_faults=["422@Immunization"])
    result = sync_now()
    assert result.outcomes["failed"] == 1 and result.outcomes["created"] == 1
    failed = next(d for d in doses(world).values() if d.sync_state == "failed")
    assert failed.sync_error == ("HTTP 422: error: Immunization.lotNumber: lot is not in the national vaccine "
                                 "register")
    assert sync_now().done == 0 and doses(world)[next(k for k, d in doses(world).items()
                                                      if d.id == failed.id)].sync_state == "failed"
    assert sync_now(retry_failed=True).outcomes["created"] == 1
    assert all(d.sync_state == "synced" for d in doses(world).values())


def test_several_upstream_records_with_our_identifier_are_a_412_and_a_failure_to_look_at(world, upstream, sync_now):
    dose = doses(world)["34567890/1"]
    for _ in range(2):
        upstream.sim.fhir.create("Immunization", {"resourceType": "Immunization", "status": "completed",
                                                  "identifier": [{"system": "urn:tikabot:dose", "value": str(dose.id)}]})
    sync_now()
    assert doses(world)["34567890/1"].sync_state == "failed"
    assert "HTTP 412" in doses(world)["34567890/1"].sync_error
    assert upstream.sim.fhir.stats()["counts"]["conditional_412"] == 1


def test_undo_after_sync_makes_the_upstream_record_entered_in_error_and_a_new_dose_revives_it(world, say, upstream,
                                                                                             sync_now):
    give_rahima_her_dose(say)
    sync_now()
    synced = doses(world)["12345678/1"]
    assert say(VACCINATOR, "UNDO", minutes=2).startswith("Removed from the record")
    assert doses(world)["12345678/1"].sync_state == "correction_pending"
    assert sync_now().outcomes["updated"] == 1
    record = upstream.sim.fhir.get("Immunization", synced.upstream_id)
    assert record["status"] == "entered-in-error" and record["meta"]["versionId"] == "2"
    assert doses(world)["12345678/1"].sync_state == "synced"
    assert say(VACCINATOR, "DOSE 12345678", minutes=3).startswith("Recorded: 12345678")
    assert sync_now().outcomes["updated"] == 1
    assert upstream.sim.fhir.get("Immunization", synced.upstream_id)["status"] == "completed"
    assert len(immunizations(upstream)) == 3 and upstream.sim.fhir.duplicates() == 0


def test_an_undo_while_the_dose_is_on_its_way_is_sent_next(world, say, upstream, sync_now, monkeypatch):
    give_rahima_her_dose(say)
    real_push = sync_module.push

    def push_then_undo(client, rec, *args):
        pushed = real_push(client, rec, *args)
        if rec.ref == "12345678":
            assert say(VACCINATOR, "UNDO", minutes=1).startswith("Removed from the record")
        return pushed

    monkeypatch.setattr(sync_module, "push", push_then_undo)
    sync_now()
    waiting = doses(world)["12345678/1"]
    assert waiting.voided and waiting.sync_state == "correction_pending" and waiting.upstream_id
    monkeypatch.undo()
    assert sync_now().outcomes["updated"] == 1
    assert upstream.sim.fhir.get("Immunization", waiting.upstream_id)["status"] == "entered-in-error"


def test_a_dose_undone_before_it_was_sent_is_looked_up_once_and_needs_nothing(world, say, upstream, sync_now):
    give_rahima_her_dose(say)
    assert say(VACCINATOR, "UNDO", minutes=1).startswith("Removed from the record")
    result = sync_now()
    assert result.outcomes["nothing"] == 1 and len(immunizations(upstream)) == 2
    assert doses(world)["12345678/1"].sync_state == "synced"


def test_an_answer_lost_then_an_undo_corrects_the_record_the_lost_answer_made(world, say, upstream, sync_now):
    sync_now()  # the paper records
    give_rahima_her_dose(say)
    upstream.sim.configure(fhir_next_faults=["500-written@Immunization"])
    sync_now()  # Rahima's dose reached the registry; we never heard
    assert doses(world)["12345678/1"].sync_state == "pending"
    assert say(VACCINATOR, "UNDO", minutes=1).startswith("Removed from the record")
    waiting = doses(world)["12345678/1"]
    assert sync_now(now=lambda: waiting.sync_next_at + timedelta(seconds=1)).outcomes["updated"] == 1
    mine = [i for i in immunizations(upstream) if i["identifier"][0]["value"] == str(waiting.id)]
    assert [i["status"] for i in mine] == ["entered-in-error"]


def test_a_slow_registry_is_waited_for_within_the_timeout(world, upstream, sync_now):
    upstream.sim.configure(fhir_latency_ms=100)
    assert sync_now().done == 2


def test_sync_with_wait_retries_until_everything_is_there(world, upstream, fhir, settings):
    upstream.sim.configure(fhir_next_faults=["500@Immunization", "500@Immunization", "timeout@Immunization"])
    result = sync_module.sync(world.sessions, fhir, settings, world.config.tz, wait_s=10)
    assert result.done == 2 and result.outcomes["retry"] == 0
    assert upstream.sim.fhir.duplicates() == 0


def test_unsynced_for_over_a_day_alerts_coordinators_once_a_day(world, upstream):
    from tikabot.registry.stale import check_stale
    from tikabot.registry.settings import RegistrySettings
    from tikabot.store.models import OutboundMessage

    settings = RegistrySettings(base_url="http://unused")
    with world.transaction() as s:
        for dose in s.scalars(select(Dose)):
            dose.created_at = NOW - timedelta(days=2)
    with world.transaction() as s:
        assert check_stale(s, NOW - timedelta(days=1, hours=1), world.config.tz, settings) == []
        sent = check_stale(s, NOW, world.config.tz, settings)
    assert [m.template for m in sent] == ["alert.sync_stale"]
    assert sent[0].body.startswith("2 dose records not synced to the registry for over a day (KAL)")
    with world.transaction() as s:
        check_stale(s, NOW + timedelta(hours=2), world.config.tz, settings)
        assert s.query(OutboundMessage).filter_by(template="alert.sync_stale").count() == 1


def test_a_failure_that_comes_back_after_another_sync_got_the_dose_through_changes_nothing(world, upstream,
                                                                                          sync_now, monkeypatch):
    """A worker's attempt times out while `tikabot sync` sends the same dose: the late failure must not
    put the synced dose back to pending."""
    real_push = sync_module.push

    def the_other_sync_wins(client, rec, *args):
        real_push(client, rec, *args)
        monkeypatch.setattr(sync_module, "push", real_push)
        sync_now()  # the other process: the registry answers it, and it commits
        raise sync_module.FhirError("no answer within 0.5 s")

    monkeypatch.setattr(sync_module, "push", the_other_sync_wins)
    sync_now()
    assert all(d.sync_state == "synced" and d.sync_error is None for d in doses(world).values())
    assert upstream.sim.fhir.duplicates() == 0


def test_sync_with_wait_also_waits_for_retries_another_sync_left(world, upstream, fhir, settings, sync_now):
    upstream.sim.configure(fhir_next_faults=["500@Immunization"])
    sync_module.sync_pass(world.sessions, fhir, replace(settings, retry_base_s=0.3),
                          world.config.tz)  # a worker's pass: one dose waits 0.15-0.3 s for its retry
    result = sync_module.sync(world.sessions, fhir, settings, world.config.tz, wait_s=5)
    assert result.outcomes["created"] >= 1 and all(d.sync_state == "synced" for d in doses(world).values())
