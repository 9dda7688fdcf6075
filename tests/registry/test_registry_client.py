"""How the FHIR client reads a registry's answers: reasons, ids, what may be retried."""
from __future__ import annotations

import pytest

from tikabot.registry.client import FhirClient, FhirError, id_from_location, outcome_reason


@pytest.mark.parametrize("body, status, reason", [
    ({"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "invalid",
                                                    "diagnostics": "Immunization.patient: required"}]},
     400, "HTTP 400: error: Immunization.patient: required"),
    ({"resourceType": "OperationOutcome", "issue": [{"severity": "fatal", "code": "processing",
                                                    "details": {"text": "Patient unknown"}},
                                                   {"severity": "error", "code": "business-rule"}]},
     422, "HTTP 422: fatal: Patient unknown; error: business-rule"),
    ({"resourceType": "OperationOutcome", "issue": []}, 409, "HTTP 409"),
    (None, 502, "HTTP 502"),  # a proxy's HTML page
    ({"error": "nope"}, 403, "HTTP 403"),
])
def test_the_reason_is_the_operation_outcomes_words_or_the_status(body, status, reason):
    assert outcome_reason(body, status) == reason


@pytest.mark.parametrize("location, found", [
    ("https://registry.example.gov.in/fhir/Immunization/abc-1/_history/3", "abc-1"),
    ("/fhir/Patient/42", "42"),
])
def test_a_minimal_answer_gives_the_id_in_its_location(location, found):
    assert id_from_location(location) == found


def test_an_unreachable_registry_is_a_retryable_network_error():
    client = FhirClient("http://127.0.0.1:9/fhir", timeout_s=0.5)
    with pytest.raises(FhirError) as caught:
        client.read("Immunization", "1")
    client.close()
    assert caught.value.retryable and caught.value.reason.startswith("network error")


def test_a_refusal_is_permanent_and_a_429_is_not(upstream, fhir):
    upstream.sim.configure(fhir_next_faults=["422", "429"])
    for retryable in (False, True):
        with pytest.raises(FhirError) as caught:
            fhir.create({"resourceType": "Patient", "identifier": [{"system": "urn:x", "value": "1"}]})
        assert caught.value.retryable is retryable
