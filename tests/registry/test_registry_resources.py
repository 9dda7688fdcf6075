"""Every dose as a FHIR R4 Immunization, and the export Bundle, checked with fhir.resources (R4B)."""
from __future__ import annotations

import io
import json
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings, strategies as st
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.immunization import Immunization

from tests.support.worlds.registry import VACCINATOR
from tikabot.registry import resources as r
from tikabot.registry.bundle import build_bundle, write_bundle
from tikabot.registry.records import DoseRecord
from tikabot.registry.settings import RegistrySettings

SYSTEMS = r.Systems.under(RegistrySettings().system_for)
AT = datetime(2025, 6, 12, 5, 0, tzinfo=timezone.utc)


def record(**changes) -> DoseRecord:
    base = dict(dose_id=7, ref="12345678", name="রহিমা খাতুন", phone="+919830011111", dose_number=1,
                vaccine="COVISHIELD", lot="4120Z025", administered_at=AT, reported_at=AT, source="sms", voided=False,
                site_code="KAL", site_name="Kalyani PHC", district="Nadia", state="WB", vaccinator_phone=VACCINATOR,
                vaccinator_name="Mita Roy", sync_state="pending", upstream_id=None)
    return DoseRecord(**{**base, **changes})


def refs() -> r.Refs:
    return r.Refs({"reference": "Patient/1"}, {"reference": "Location/2"}, {"reference": "Practitioner/3"})


def test_a_dose_is_an_immunization_with_every_field_the_registry_needs():
    resource = r.immunization(record(), SYSTEMS, refs(), "Asia/Kolkata")
    parsed = Immunization.model_validate(resource)
    assert parsed.status == "completed"
    assert [(c.system, c.code) for c in parsed.vaccineCode.coding] == [
        ("http://snomed.info/sct", "1119305005"), ("urn:tikabot:vaccine", "COVISHIELD")]
    assert parsed.vaccineCode.text == "COVISHIELD"
    assert resource["occurrenceDateTime"] == "2025-06-12T10:30:00+05:30"
    assert parsed.lotNumber == "4120Z025" and parsed.primarySource is True
    assert parsed.protocolApplied[0].doseNumberPositiveInt == 1
    assert parsed.performer[0].actor.reference == "Practitioner/3"
    assert parsed.location.reference == "Location/2" and parsed.patient.reference == "Patient/1"
    assert [(i.system, i.value) for i in parsed.identifier] == [("urn:tikabot:dose", "7")]


def test_a_paper_record_is_not_a_primary_source_and_says_it_was_written():
    parsed = Immunization.model_validate(r.immunization(record(source="paper"), SYSTEMS, refs(), "Asia/Kolkata"))
    assert parsed.primarySource is False
    assert parsed.reportOrigin.coding[0].code == "record"


def test_an_undone_dose_is_entered_in_error_and_a_dose_without_vaccinator_has_no_performer():
    resource = r.immunization(record(voided=True), SYSTEMS, r.Refs({"reference": "Patient/1"},
                                                                    {"reference": "Location/2"}, None), "Asia/Kolkata")
    assert Immunization.model_validate(resource).status == "entered-in-error"
    assert "performer" not in resource


@pytest.mark.parametrize("system, expected", [("urn:tikabot", "urn:tikabot:dose"),
                                              ("https://nadia.example.gov.in/id/", "https://nadia.example.gov.in/id/dose")])
def test_identifier_systems_come_from_one_base(system, expected):
    assert RegistrySettings(system=system.rstrip("/:")).system_for("dose") == expected


def test_the_bundle_validates_and_holds_each_patient_and_location_once():
    records = [record(), record(dose_id=8, dose_number=2, lot="L9"), record(dose_id=9, ref="34567890", name="Lata",
                                                                           vaccinator_phone="")]
    bundle = build_bundle(records, SYSTEMS, "Asia/Kolkata", AT)
    out = io.StringIO()
    assert write_bundle(bundle, out) == 3
    parsed = Bundle.model_validate(json.loads(out.getvalue()))
    kinds = [e.resource.get_resource_type() for e in parsed.entry]
    assert kinds.count("Immunization") == 3 and kinds.count("Patient") == 2
    assert kinds.count("Location") == 1 and kinds.count("Practitioner") == 1
    urls = {e.fullUrl for e in parsed.entry}
    for entry in parsed.entry:
        if entry.resource.get_resource_type() == "Immunization":
            assert entry.resource.patient.reference in urls and entry.resource.location.reference in urls
    again = build_bundle(records, SYSTEMS, "Asia/Kolkata", AT)
    assert [e["fullUrl"] for e in again["entry"]] == [e["fullUrl"] for e in bundle["entry"]]  # stable
    assert "রহিমা খাতুন" in out.getvalue()  # names stay readable


@settings(max_examples=150, deadline=None)
@given(name=st.text(min_size=1, max_size=60).filter(str.strip), lot=st.from_regex(r"[A-Z0-9-]{1,20}", fullmatch=True),
       number=st.integers(1, 5), source=st.sampled_from(["sms", "ussd", "paper", "telegram"]), voided=st.booleans(),
       phone=st.sampled_from(["", VACCINATOR]), tz=st.sampled_from(["Asia/Kolkata", "UTC", "America/New_York"]),
       at=st.datetimes(min_value=datetime(2021, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(timezone.utc)))
def test_any_dose_makes_a_bundle_that_validates(name, lot, number, source, voided, phone, tz, at):
    rec = record(name=name, lot=lot, dose_number=number, source=source, voided=voided, vaccinator_phone=phone,
                 administered_at=at)
    parsed = Bundle.model_validate(build_bundle([rec], SYSTEMS, tz, AT))
    immunization = parsed.entry[0].resource
    assert immunization.primarySource is (source != "paper")
    assert immunization.status == ("entered-in-error" if voided else "completed")
    assert datetime.fromisoformat(str(immunization.occurrenceDateTime)) == at.replace(microsecond=0)
