"""The simulator's FHIR R4 registry, over HTTP as a registry client sees it."""
from __future__ import annotations

import pytest
import requests

from tests.support import wait_for

DOSE = "urn:tikabot:dose"
HEADERS = {"Content-Type": "application/fhir+json"}


def immunization(dose_id: str, ref: str = "12345678", status: str = "completed") -> dict:
    return {"resourceType": "Immunization", "status": status, "identifier": [{"system": DOSE, "value": dose_id}],
            "vaccineCode": {"text": "COVISHIELD"}, "occurrenceDateTime": "2025-06-12T10:30:00+05:30",
            "patient": {"reference": "Patient/1", "identifier": {"system": "urn:tikabot:beneficiary", "value": ref}}}


def post(sim, body, condition=None, resource_type="Immunization"):
    headers = {**HEADERS, **({"If-None-Exist": condition} if condition else {})}
    return requests.post(f"{sim.url}/fhir/{resource_type}", json=body, headers=headers, timeout=5)


def test_conditional_create_makes_one_record_then_answers_with_it(sim):
    first = post(sim, immunization("7"), "identifier=urn:tikabot:dose|7")
    again = post(sim, immunization("7"), "identifier=urn:tikabot:dose|7")
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert first.headers["Location"] == f"/fhir/Immunization/{first.json()['id']}/_history/1"
    assert sim.sim.fhir.stats()["resources"]["Immunization"] == 1


def test_a_conditional_create_matching_several_records_is_412_with_an_operation_outcome(sim):
    for _ in range(2):
        assert post(sim, immunization("7")).status_code == 201  # plain creates: no check
    answer = post(sim, immunization("7"), "identifier=urn:tikabot:dose|7")
    assert answer.status_code == 412
    assert answer.json()["resourceType"] == "OperationOutcome" and answer.json()["issue"][0]["code"] == "duplicate"
    assert requests.get(f"{sim.url}/_sim/fhir", timeout=5).json()["duplicates"] == 1


def test_update_read_and_a_missing_record(sim):
    made = post(sim, immunization("7")).json()
    changed = requests.put(f"{sim.url}/fhir/Immunization/{made['id']}", headers=HEADERS, timeout=5,
                           json={**immunization("7", status="entered-in-error"), "id": made["id"]})
    assert changed.status_code == 200 and changed.json()["meta"]["versionId"] == "2"
    read = requests.get(f"{sim.url}/fhir/Immunization/{made['id']}", timeout=5).json()
    assert read["status"] == "entered-in-error"
    missing = requests.get(f"{sim.url}/fhir/Immunization/999", timeout=5)
    assert missing.status_code == 404 and missing.json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize("body, words", [
    ({"resourceType": "Immunization", "status": "completed"}, "missing vaccineCode, patient, occurrence[x]"),
    ({**immunization("1"), "status": "done"}, "is not one of"),
    ({"resourceType": "Patient"}, "does not match the URL"),
])
def test_an_invalid_resource_is_a_400_operation_outcome(sim, body, words):
    answer = post(sim, body)
    assert answer.status_code == 400 and words in answer.json()["issue"][0]["diagnostics"]


def test_search_by_identifier_and_by_patient_with_pages(sim):
    for i in range(5):
        post(sim, immunization(str(i), ref="111111" if i < 3 else "222222"))
    post(sim, {**immunization("x"), "identifier": [{"system": "urn:other", "value": "x"}]})
    def search(**params):
        return requests.get(f"{sim.url}/fhir/Immunization", params=params, timeout=5).json()
    assert search(identifier=f"{DOSE}|3")["total"] == 1
    assert search(identifier=f"{DOSE}|")["total"] == 5  # every record in our system
    assert search(**{"patient:identifier": "urn:tikabot:beneficiary|111111,urn:tikabot:beneficiary|222222"})["total"] == 5
    assert search(patient="Patient/1")["total"] == 6
    page = search(identifier=f"{DOSE}|", _count=2)
    assert len(page["entry"]) == 2 and any(link["relation"] == "next" for link in page["link"])
    bad = requests.get(f"{sim.url}/fhir/Immunization", params={"vaccine": "x"}, timeout=5)
    assert bad.status_code == 400


def test_faults_500_after_the_write_429_and_a_refusal(sim):
    sim.sim.configure(fhir_next_faults=["500-written", "429", "422"])
    assert post(sim, immunization("1")).status_code == 500
    assert sim.sim.fhir.stats()["resources"]["Immunization"] == 1  # written, though the answer was an error
    assert post(sim, immunization("2")).status_code == 429
    refused = post(sim, immunization("2"))
    assert refused.status_code == 422 and refused.json()["issue"][0]["code"] == "business-rule"


def test_a_timeout_keeps_the_client_waiting_past_its_timeout(sim):
    sim.sim.configure(fhir_next_faults=["timeout"], fhir_timeout_sleep_s=1.0)
    with pytest.raises(requests.Timeout):
        requests.post(f"{sim.url}/fhir/Immunization", json=immunization("1"), headers=HEADERS, timeout=0.3)
    assert wait_for(lambda: sim.sim.fhir.in_flight == 0, 5)  # till then the simulator still holds its answer
    assert requests.get(f"{sim.url}/fhir/metadata", timeout=5).json()["fhirVersion"] == "4.0.1"


def test_if_none_exist_is_read_as_a_url_query_as_fhir_servers_read_it(sim):
    """An unencoded `+` is a space, as on a real server: the client must encode (`%2B`)."""
    staff = {"resourceType": "Practitioner", "identifier": [{"system": "urn:tikabot:staff", "value": "+919800000001"}]}
    encoded = "identifier=urn%3Atikabot%3Astaff%7C%2B919800000001"
    first = post(sim, staff, encoded, "Practitioner")
    assert first.status_code == 201
    assert post(sim, staff, encoded, "Practitioner").json()["id"] == first.json()["id"]
    assert post(sim, staff, "identifier=urn:tikabot:staff|+919800000001", "Practitioner").status_code == 201
    stats = requests.get(f"{sim.url}/_sim/fhir", timeout=5).json()
    assert stats["duplicates_by_type"]["Practitioner"] == 1 and stats["duplicates"] == 0
