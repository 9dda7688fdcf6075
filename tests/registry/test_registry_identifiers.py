"""Conditional creates find what an earlier sync made, whatever the identifier holds (`+`, `&`, `%`),
on the simulator and on a real FHIR R4 server that nobody here wrote (Medplum's, started by
`.ci/fhir-server`; its base URL in TIKABOT_TEST_FHIR_URL)."""
from __future__ import annotations

import os
import random
import uuid

import pytest

from tests.support.worlds.registry import TIMEOUT_S, VACCINATOR, doses, give_rahima_her_dose
from tikabot.registry.client import FhirClient
from tikabot.registry.settings import RegistrySettings
from tikabot.registry.sync import sync_pass

FHIR_SERVER_URL = os.environ.get("TIKABOT_TEST_FHIR_URL")
NO_SERVER = "TIKABOT_TEST_FHIR_URL is not set: run .ci/fhir-server, which starts a real FHIR R4 server and prints it"


@pytest.fixture(params=["simulator", pytest.param("fhir-server", marks=pytest.mark.fhir_server)])
def registry(request) -> RegistrySettings:
    """A registry to sync to, and identifier systems no other test uses (a real server keeps every record)."""
    if request.param == "fhir-server":
        if not FHIR_SERVER_URL:
            pytest.skip(NO_SERVER)
        base = FHIR_SERVER_URL
    else:
        base = f"{request.getfixturevalue('upstream').url}/fhir"
    return RegistrySettings(base_url=base.rstrip("/"), timeout_s=max(TIMEOUT_S, 5.0), retry_base_s=0.01,
                            system=f"urn:t{uuid.uuid4().hex[:12]}")


@pytest.fixture
def client(registry):
    fhir = FhirClient(registry.base_url, timeout_s=registry.timeout_s)
    yield fhir
    fhir.close()


def carrying(client: FhirClient, resource_type: str, system: str, value: str) -> list[dict]:
    return client.search(resource_type, {"identifier": f"{system}|{value}"})


def test_every_sync_finds_the_vaccinator_patient_and_site_it_made_before(world, say, registry, client):
    def sync():
        result = sync_pass(world.sessions, client, registry, world.config.tz, rng=random.Random(1))
        assert result.outcomes["failed"] == 0 and result.outcomes["retry"] == 0, result.summary()

    give_rahima_her_dose(say)
    sync()
    assert say(VACCINATOR, "UNDO", minutes=2).startswith("Removed from the record")
    sync()
    assert say(VACCINATOR, "DOSE 12345678", minutes=3).startswith("Recorded: 12345678")
    sync()
    assert all(d.sync_state == "synced" for d in doses(world).values())
    assert len(carrying(client, "Practitioner", registry.system_for("staff"), VACCINATOR)) == 1
    assert len(carrying(client, "Patient", registry.system_for("beneficiary"), "12345678")) == 1
    assert len(carrying(client, "Location", registry.system_for("site"), "KAL")) == 1
    for dose in doses(world).values():
        assert [i["id"] for i in carrying(client, "Immunization", registry.system_for("dose"), str(dose.id))] \
            == [dose.upstream_id]


@pytest.mark.parametrize("value", ["+919800000001", "A&identifier=B", "100%25 sure", "lot 7/2?x=1#3"])
def test_a_conditional_create_matches_an_identifier_with_query_characters(registry, client, value):
    system = registry.system_for("staff")
    practitioner = {"resourceType": "Practitioner", "identifier": [{"system": system, "value": value}]}
    first = client.create(practitioner, if_none_exist={"identifier": f"{system}|{value}"})
    again = client.create(practitioner, if_none_exist={"identifier": f"{system}|{value}"})
    assert (first.status, again.status) == (201, 200)
    assert again.resource["id"] == first.resource["id"]
    assert len(carrying(client, "Practitioner", system, value)) == 1


def test_registry_duplicates_finds_what_an_earlier_version_made_and_merges_it(world, say, registry, client,
                                                                              monkeypatch):
    """An earlier tikabot sent If-None-Exist unencoded: a Practitioner per pass. The command lists them
    (phone masked), merges them into the oldest with every Immunization pointing at it, and then finds none."""
    from click.testing import CliRunner

    from tikabot.cli.main import main
    from tikabot.registry import client as client_module

    monkeypatch.setattr(client_module, "if_none_exist_header",
                        lambda params: "&".join(f"{k}={v}" for k, v in params.items()))  # as before the fix
    give_rahima_her_dose(say)
    sync_pass(world.sessions, client, registry, world.config.tz)
    assert say(VACCINATOR, "UNDO", minutes=2).startswith("Removed from the record")
    sync_pass(world.sessions, client, registry, world.config.tz)
    monkeypatch.undo()
    made = carrying(client, "Practitioner", registry.system_for("staff"), VACCINATOR)
    assert len(made) == 2
    monkeypatch.setenv("UPSTREAM_FHIR_BASE", registry.base_url)
    monkeypatch.setenv("TIKABOT_FHIR_SYSTEM", registry.system)
    run = CliRunner()

    listed = run.invoke(main, ["registry", "duplicates"], catch_exceptions=False)
    assert listed.exit_code == 1, listed.output
    assert "1 identifiers held more than once, 1 extra records" in listed.output
    assert "Practitioner" in listed.output and VACCINATOR not in listed.output  # masked

    merged = run.invoke(main, ["registry", "duplicates", "--merge"], catch_exceptions=False)
    assert merged.exit_code == 0, merged.output
    kept = carrying(client, "Practitioner", registry.system_for("staff"), VACCINATOR)
    assert len(kept) == 1
    performers = {i["performer"][0]["actor"]["reference"]
                  for i in client.search("Immunization", {"identifier": f"{registry.system_for('dose')}|"})
                  if i.get("performer")}
    assert performers == {f"Practitioner/{kept[0]['id']}"}
    again = run.invoke(main, ["registry", "duplicates"], catch_exceptions=False)
    assert again.exit_code == 0 and "0 identifiers held more than once" in again.output
