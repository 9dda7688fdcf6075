"""A paper dose's catch-up confirmation follows the same rule: never 'fully vaccinated' with a dose missing."""
from __future__ import annotations

from datetime import timedelta

from tests.support.worlds.small_district import NOW, add_district
from tikabot.reminders.doses import confirm_dose
from tikabot.reminders.policy import Policy
from tikabot.store.models import Dose


def _paper(s, person, number, days_ago=0):
    dose = Dose(beneficiary_id=person.id, dose_number=number, vaccine="COVISHIELD", lot="P1", site_id=person.site_id,
                administered_at=NOW - timedelta(days=days_ago), source="paper")
    s.add(dose)
    s.flush()
    return dose


def test_a_paper_dose_two_with_no_dose_one_is_not_called_complete(services):
    policy = Policy.from_config(services.config)
    with services.transaction() as s:
        district = add_district(s)
        message = confirm_dose(s, _paper(s, district.rahima, 2), policy)
        assert message.template == "dose.confirmation_earlier_missing"
        assert "১ নম্বর ডোজ এখনও রেকর্ডে নেই" in message.body
        lata_two = confirm_dose(s, _paper(s, district.lata, 2), policy)  # Lata's dose 1 is on record
        assert lata_two.template == "dose.confirmation_final"


def test_course_rule_in_one_place():
    from tikabot.flows import course

    assert course.confirmation_template(1, "COVISHIELD", ()) == course.CONFIRMATION
    assert course.confirmation_template(2, "COVISHIELD", (1,)) == course.FINAL
    assert course.confirmation_template(2, "COVISHIELD", ()) == course.FINAL_NOT_ON_RECORD
    assert course.confirmation_template(1, "COVISHIELD", (2,)) == course.FINAL  # the missing dose 1 arrived
    assert course.missing_before(3, (2,)) == (1,)
