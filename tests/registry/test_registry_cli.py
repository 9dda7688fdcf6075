"""`tikabot export doses --format fhir`, `tikabot sync` and `tikabot reconcile` as the README says."""
from __future__ import annotations

import csv
import json

import pytest
from fhir.resources.R4B.bundle import Bundle

from tests.support.cli import tikabot_cli
from tests.support.worlds.registry import VACCINATOR, doses, give_rahima_her_dose


@pytest.fixture
def run(world, database_url, monkeypatch, settings):
    return tikabot_cli(database_url, monkeypatch, UPSTREAM_FHIR_BASE=settings.base_url, UPSTREAM_FHIR_TIMEOUT="2")


def test_export_fhir_writes_a_bundle_that_validates_with_the_same_filters_as_the_csv(run, say, tmp_path):
    give_rahima_her_dose(say)
    say(VACCINATOR, "UNDO", minutes=1)
    out = tmp_path / "doses.json"
    result = run("export", "doses", "--format", "fhir", "-o", str(out))
    assert result.exit_code == 0 and "exported 2 dose records" in result.output
    bundle = Bundle.model_validate(json.loads(out.read_text(encoding="utf-8")))
    statuses = [e.resource.status for e in bundle.entry if e.resource.get_resource_type() == "Immunization"]
    assert statuses == ["completed", "completed"]  # the undone dose is left out, as in the CSV
    with_voided = json.loads(run("export", "doses", "--format", "fhir", "--include-voided").output)
    assert sorted(e["resource"]["status"] for e in with_voided["entry"]
                  if e["resource"]["resourceType"] == "Immunization") == ["completed", "completed", "entered-in-error"]
    elsewhere = json.loads(run("export", "doses", "--format", "fhir", "--site", "BAR").output)
    assert "entry" not in elsewhere and Bundle.model_validate(elsewhere).type == "collection"


def test_sync_then_reconcile_finds_nothing_to_do(run, world, upstream):
    result = run("sync")
    assert result.exit_code == 0
    assert result.output.startswith("synced 2 (created 2, already there 0, corrected 0, nothing to send 0)")
    assert run("sync").output.startswith("synced 0")
    result = run("reconcile")
    assert result.exit_code == 0
    assert "compared 2 dose records with the registry: 0 differences (none)" in result.output


def test_sync_says_what_waits_for_a_retry_and_exits_3(run, upstream):
    upstream.sim.configure(fhir_next_faults=["500@Immunization"])
    result = run("sync")
    assert result.exit_code == 3 and "to retry 1" in result.output and "next retry after" in result.output


def test_reconcile_lists_differences_writes_them_as_csv_and_exits_1(run, world, say, upstream, tmp_path):
    run("sync")
    lata = doses(world)["34567890/1"]
    record = upstream.sim.fhir.get("Immunization", lata.upstream_id)
    upstream.sim.fhir.put("Immunization", lata.upstream_id, {**record, "lotNumber": "=HYPERLINK(1)"})
    give_rahima_her_dose(say)
    out = tmp_path / "differences.csv"
    result = run("reconcile", "-o", str(out))
    assert result.exit_code == 1
    assert "missing upstream: ref 12345678 dose 1" in result.output
    assert "differs: ref 34567890 dose 1 lot tikabot L1 upstream =HYPERLINK(1)" in result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert {r["kind"] for r in rows} == {"missing upstream", "differs"}
    assert next(r for r in rows if r["kind"] == "differs")["upstream"] == "'=HYPERLINK(1)"  # formula-safe


def test_sync_and_reconcile_need_an_upstream(run, monkeypatch):
    monkeypatch.delenv("UPSTREAM_FHIR_BASE")
    for command in ("sync", "reconcile"):
        result = run(command)
        assert result.exit_code == 1 and "UPSTREAM_FHIR_BASE is not set" in result.output


def test_reconcile_says_so_when_the_registry_is_down(run, monkeypatch):
    monkeypatch.setenv("UPSTREAM_FHIR_BASE", "http://127.0.0.1:9/fhir")
    result = run("reconcile")
    assert result.exit_code == 1 and "the registry did not answer: network error" in result.output
