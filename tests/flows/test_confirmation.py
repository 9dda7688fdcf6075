"""The dose confirmation, built in one place for a report (SMS, USSD) and the planner's catch-up."""
from datetime import date, timedelta

import pytest

from tests.support.vaccine_files import vaccines_file
from tikabot.flows.confirmation import Confirmation, dose_confirmation, next_due
from tikabot.flows.course import CONFIRMATION, FINAL, FINAL_NOT_ON_RECORD, numbers
from tikabot.flows.names import first_name

DAY = date(2025, 6, 12)


@pytest.fixture
def three_doses(tmp_path):
    with vaccines_file(tmp_path, '[[vaccine]]\nname = "ZYCOV D"\nmin_interval_days = 28\ndoses = 3\n'):
        yield


@pytest.mark.parametrize("number, on_record, template, extra", [
    (1, (), CONFIRMATION, {"next_due": DAY + timedelta(days=28)}),
    (2, (1,), FINAL, {}),
    (2, (), FINAL_NOT_ON_RECORD, {"missing": numbers([1])}),  # dose 1 given elsewhere, not on record
    (1, (2,), FINAL, {}),  # dose 1 recorded after a dose 2 given elsewhere completes the course
])
def test_the_confirmation_of_a_two_dose_course(number, on_record, template, extra):
    assert dose_confirmation("Rahima", number, "COVISHIELD", on_record, DAY) == Confirmation(
        template, {"name": "Rahima", "dose": number, "vaccine": "COVISHIELD", **extra})


def test_never_fully_vaccinated_with_a_dose_between_not_on_record(three_doses):
    """Dose 1 reported with dose 3 on record and dose 2 nowhere: the course ended, dose 2 is missing."""
    got = dose_confirmation("Amit", 1, "ZYCOV D", (3,), DAY)
    assert (got.template, got.params["missing"]) == (FINAL_NOT_ON_RECORD, numbers([2]))
    assert next_due(1, "ZYCOV D", (3,), DAY) is None
    assert next_due(1, "ZYCOV D", (), DAY) == DAY + timedelta(days=28)


@pytest.mark.parametrize("name, first", [("Rahima Khatun", "Rahima"), ("  Amit  Das ", "Amit"), ("Lata", "Lata"),
                                         ("মৌমিতা রায়", "মৌমিতা"), ("", "")])
def test_a_message_addresses_a_person_by_the_first_word_of_their_name(name, first):
    assert first_name(name) == first
