"""Issue 14 on the USSD staff menu: ordinals, dose 2 with no dose 1, one UNDO at a time, verifiers."""
import pytest
from sqlalchemy import select

from tests.support.worlds.ussd import STAFF, paged, rows, screen
from tikabot.flows.course import numbers
from tikabot.flows.ussd_menus import nav
from tikabot.store.models import Dose, OutboundMessage, Site, Staff

LANGS = ["en", "bn", "hi"]
VERIFIER = "+919830000005"


@pytest.mark.parametrize("lang, typed", [("en", "1st"), ("bn", "১ম"), ("hi", "पहली")])
def test_an_ordinal_typed_for_the_dose_number_is_the_dose(world, phone, lang, typed):
    p = phone(STAFF[lang])
    for value in (None, "1", "12345678"):
        p.dial() if value is None else p.press(value)
    assert p.press(typed) == "CON " + screen("ussd.pick_vaccine", lang, "1 COVISHIELD", "2 COVAXIN", nav(lang, "back"))
    p.press("1")
    assert p.press_all("L9") == paged("CON ", screen("ussd.confirm_dose", lang, nav(lang, "back"), ref="12345678", name="Rahima", dose=1,
                                            vaccine="COVISHIELD", lot="L9"), lang)


@pytest.mark.parametrize("lang", LANGS)
def test_dose_two_with_no_dose_one_is_not_recorded_unless_given_elsewhere(world, phone, lang):
    p = phone(STAFF[lang])
    for value in (None, "1", "12345678"):
        p.dial() if value is None else p.press(value)
    follow = screen("ussd.record_elsewhere", lang, dose=2, missing=numbers([1]))
    assert p.press_all("2") == paged("CON ", screen("ussd.earlier_dose_missing", lang, follow, nav(lang, "back", "menu"), ref="12345678", missing=numbers([1])), lang)
    assert rows(world, Dose, Dose.source == "ussd") == []
    assert p.press_all("1") == paged("CON ", screen("ussd.pick_vaccine", lang, "1 COVISHIELD", "2 COVAXIN", nav(lang, "back")), lang)
    p.press("1")
    assert p.press_all("L9") == paged("CON ", screen("ussd.confirm_dose", lang, nav(lang, "back"), ref="12345678", name="Rahima", dose=2,
                                            vaccine="COVISHIELD", lot="L9"), lang)
    assert p.press_all("1") == paged("CON ", screen("ussd.dose_recorded_elsewhere", lang, screen("ussd.next_dose", lang), nav(lang, "back", "menu"),
                                           ref="12345678", name="Rahima", dose=2, missing=numbers([1]), count=1), lang)
    [dose] = rows(world, Dose, Dose.source == "ussd")
    assert (dose.dose_number, dose.needs_reconciliation) == (2, True)
    assert [m.template for m in rows(world, OutboundMessage)] == ["dose.confirmation_earlier_missing"]


@pytest.mark.parametrize("lang", LANGS)
def test_undo_twice_voids_one_dose_and_then_asks_for_the_ref(world, phone, lang):
    p = phone(STAFF[lang])
    for value in (None, "1", "12345678", "1", "1", "L9", "1", "00"):
        p.dial() if value is None else p.press(value)
    assert p.press_all("3") == paged("CON ", screen("ussd.undo_ask", lang, nav(lang, "back"), ref="12345678", dose=1), lang)
    assert p.press_all("1") == paged("CON ", screen("ussd.undo_done", lang, nav(lang, "back", "menu"), ref="12345678", dose=1), lang)
    p.press("00")
    assert p.press_all("3") == paged("CON ", screen("ussd.undo_ask_ref", lang, nav(lang, "back", "menu"), ref="12345678", dose=1), lang)
    paper = rows(world, Dose, Dose.source == "paper")
    assert paper and not any(d.voided for d in paper)  # nothing further back was touched


@pytest.mark.parametrize("lang", LANGS)
def test_a_verifier_menu_has_no_record_or_undo(world, phone, lang):
    with world.transaction() as s:
        kal = s.scalar(select(Site.id).where(Site.code == "KAL"))
        s.add(Staff(phone=VERIFIER, name="Ravi", role="verifier", site_id=kal, language=lang))
    p = phone(VERIFIER)
    menu = screen("ussd.verifier_menu", lang)
    assert p.dial() == "CON " + menu
    for choice in ("1", "3"):
        assert p.press(choice) == "CON " + screen("ussd.invalid", lang) + "\n" + menu
    assert p.press_all("4") == paged("CON ", screen("ussd.ask_ref", lang, nav(lang, "back")), lang)
    assert rows(world, Dose, Dose.source == "ussd") == [] and rows(world, OutboundMessage) == []
