"""Staff menus walked end to end in every language, through POST /ussd, against a real database."""
from datetime import timedelta

import pytest

from tests.support.worlds.ussd import NOW, NO_SITE_STAFF, STAFF, paged, rows, screen
from tikabot.core.clock import local_date
from tikabot.flows.ussd_menus import nav
from tikabot.core.phones import mask
from tikabot.store.models import Dose, OtpRecord, OutboundMessage, Staff

LANGS = ["en", "bn", "hi"]


@pytest.mark.parametrize("lang", LANGS)
def test_record_a_dose_with_vaccine_and_lot_then_the_next(world, phone, lang):
    p = phone(STAFF[lang])
    assert p.dial() == "CON " + screen("ussd.staff_menu", lang)
    assert p.press_all("1") == paged("CON ", screen("ussd.ask_ref", lang, nav(lang, "back")), lang)
    assert p.press_all("99") == paged("CON ", screen("ussd.bad_ref", lang, nav(lang, "back"), ref="99"), lang)
    assert p.press_all("99999999") == paged("CON ", screen("ussd.unknown_ref", lang, nav(lang, "back"), ref="99999999"), lang)
    assert p.press_all("1234-5678") == paged("CON ", screen("ussd.ask_dose", lang, nav(lang, "back"), ref="12345678", name="Rahima",
                                                   next_dose=1), lang)
    assert p.press_all("1") == paged("CON ", screen("ussd.pick_vaccine", lang, "1 COVISHIELD", "2 COVAXIN", nav(lang, "back")), lang)
    assert p.press_all("1") == paged("CON ", screen("ussd.ask_lot", lang, nav(lang, "back")), lang)
    assert p.press_all("lot42") == paged("CON ", screen("ussd.confirm_dose", lang, nav(lang, "back"), ref="12345678", name="Rahima",
                                               dose=1, vaccine="COVISHIELD", lot="LOT42"), lang)
    assert p.press_all("1") == paged("CON ", screen("ussd.dose_recorded", lang, screen("ussd.next_dose", lang), nav(lang, "back", "menu"),
                                           ref="12345678", name="Rahima", dose=1, count=1), lang)
    [dose] = rows(world, Dose, Dose.source == "ussd")
    assert (dose.dose_number, dose.vaccine, dose.lot, dose.vaccinator_phone) == (1, "COVISHIELD", "LOT42", STAFF[lang])
    assert [m.template for m in rows(world, OutboundMessage)] == ["dose.confirmation"]
    assert p.press_all("1") == paged("CON ", screen("ussd.ask_ref", lang, nav(lang, "back")), lang)
    assert p.press("45678901").startswith("CON 45678901 Jiban")
    due = local_date(NOW - timedelta(days=10), "Asia/Kolkata") + timedelta(days=28)
    p.press("2")  # no session open: vaccine and lot first, then the same checks as DOSE by SMS
    p.press("2")
    assert p.press_all("L2") == paged("CON ", screen("ussd.dose2_too_early", lang, nav(lang, "back", "menu"), ref="45678901", due_date=due), lang)
    assert p.press_all("0") == paged("CON ", screen("ussd.ask_lot", lang, nav(lang, "back")), lang)  # back to the last entry
    assert len(rows(world, Dose)) == 3  # two paper doses and today's one


@pytest.mark.parametrize("lang", LANGS)
def test_dose_two_uses_dose_one_rules_and_back_and_menu(world, phone, lang):
    p = phone(STAFF[lang])
    p.dial()
    p.press("1")
    assert p.press("34567890").startswith("CON 34567890 Lata")
    assert p.press_all("0") == paged("CON ", screen("ussd.ask_ref", lang, nav(lang, "back")), lang)
    p.press("34567890")
    assert p.press_all("2") == paged("CON ", screen("ussd.pick_vaccine", lang, "1 COVISHIELD", "2 COVAXIN", nav(lang, "back")), lang)
    p.press("2")
    assert p.press_all("L7") == paged("CON ", screen("ussd.wrong_vaccine", lang, nav(lang, "back", "menu"), ref="34567890", vaccine="COVISHIELD"), lang)
    assert p.press_all("00") == paged("CON ", screen("ussd.staff_menu", lang), lang)
    assert rows(world, Dose, Dose.source == "ussd") == []


@pytest.mark.parametrize("lang", LANGS)
def test_count_and_undo(world, phone, lang):
    p = phone(STAFF[lang])
    p.dial()
    assert p.press_all("3") == paged("CON ", screen("ussd.undo_nothing", lang, nav(lang, "back", "menu")), lang)
    for value in ("00", "1", "12345678", "1", "1", "L9", "1", "00"):
        p.press(value)
    assert p.press_all("2") == paged("CON ", screen("ussd.count", lang, nav(lang, "back", "menu"), site="Kalyani PHC", dose1=1, dose2=0, total=1,
                                           due=2, remaining=1), lang)
    assert p.press_all("0") == paged("CON ", screen("ussd.staff_menu", lang), lang)
    assert p.press_all("3") == paged("CON ", screen("ussd.undo_ask", lang, nav(lang, "back"), ref="12345678", dose=1), lang)
    assert p.press_all("1") == paged("CON ", screen("ussd.undo_done", lang, nav(lang, "back", "menu"), ref="12345678", dose=1), lang)
    [dose] = rows(world, Dose, Dose.source == "ussd")
    assert dose.voided


@pytest.mark.parametrize("lang", LANGS)
def test_verify_send_code_then_check(world, phone, lang):
    p = phone(STAFF[lang])
    p.dial()
    assert p.press_all("4") == paged("CON ", screen("ussd.ask_ref", lang, nav(lang, "back")), lang)
    assert p.press_all("12345678") == paged("CON ", screen("ussd.verify_menu", lang, nav(lang, "back"), ref="12345678", name="Rahima"), lang)
    assert p.press_all("1") == paged("CON ", screen("ussd.code_sent", lang, nav(lang, "back"), phone=mask("+919830011111")), lang)
    assert len(rows(world, OtpRecord)) == 1
    [sent] = rows(world, OutboundMessage)
    assert (sent.template, sent.recipient, sent.language) == ("otp.code", "+919830011111", "bn")
    assert p.press_all("12") == paged("CON ", screen("ussd.ask_code", lang, nav(lang, "back")), lang)
    assert p.press_all("000000") == paged("CON ", screen("ussd.otp_wrong", lang, nav(lang, "back"), tries_left=4), lang)
    assert p.press("4321") == "END " + screen("ussd.otp_ok", lang, ref="12345678", name="Rahima")


@pytest.mark.parametrize("lang", LANGS)
def test_check_a_code_never_sent_offers_to_send_one(world, phone, lang):
    p = phone(STAFF[lang])
    for value in (None, "4", "23456789", "2"):
        p.dial() if value is None else p.press(value)
    assert p.press_all("123456") == paged("CON ", screen("ussd.otp_none", lang, nav(lang, "back"), ref="23456789"), lang)
    assert p.press_all("1") == paged("CON ", screen("ussd.code_sent", lang, nav(lang, "back"), phone=mask("+919830022222")), lang)


@pytest.mark.parametrize("lang", LANGS)
def test_staff_changes_language(world, phone, lang):
    other = {"en": ("2", "bn"), "bn": ("3", "hi"), "hi": ("1", "en")}[lang]
    p = phone(STAFF[lang])
    p.dial()
    assert p.press_all("5") == paged("CON ", screen("ussd.lang_menu", lang, nav(lang, "back")), lang)
    assert p.press(other[0]) == "CON " + screen("ussd.staff_menu", other[1])
    [staff] = rows(world, Staff, Staff.phone == STAFF[lang])
    assert staff.language == other[1]


def test_staff_without_a_site_is_told_so(world, phone):
    p = phone(NO_SITE_STAFF)
    p.dial()
    assert p.press_all("2") == paged("CON ", screen("ussd.no_site", "en", nav("en", "back", "menu")), "en")


def test_guessing_refs_by_ussd_pauses_the_phone(world, phone):
    """Unknown REFs by USSD count like SMS ones (runner/probes.py): the tenth ends the session."""
    with world.transaction() as s:
        s.add(Staff(phone="+919830000077", name="Dr Sen", role="coordinator", language="en"))
    p = phone(STAFF["en"])
    p.dial()
    p.press("1")
    for n in range(9):
        assert p.press(f"9999000{n}") == "CON " + screen("ussd.unknown_ref", "en", nav("en", "back"), ref=f"9999000{n}")
    assert p.press("99990009") == "END " + screen("staff.probe_locked", "en", minutes=30)
    p = phone(STAFF["en"])
    p.dial()
    p.press("1")
    assert p.press("12345678").startswith("CON 12345678 Rahima")  # a known REF still goes on
    [alert] = rows(world, OutboundMessage, OutboundMessage.template == "alert.staff_probing")
    assert alert.recipient == "+919830000077" and mask(STAFF["en"]) in alert.body
