"""Beneficiary menus walked end to end in every language, through POST /ussd."""
import pytest

from tests.support.worlds.ussd import BENEFICIARY, STRANGER, rows, screen
from tikabot.flows.ussd_menus import nav

from tikabot.core.phones import mask
from tikabot.store.models import AdverseEvent, Appointment, Beneficiary, OutboundMessage

# language -> (first name, appointment date, slot, site, security code): the screens show all but the code
BOOKED = {"en": ("Amit", "14 Jun", "11 am-1 pm", "Barasat SDH", "8765"),
          "bn": ("Rahima", "আজ", "সকাল ৯টা–১১টা", "Kalyani PHC", "4321"),
          "hi": ("Lata", "आज", "सुबह 9–11 बजे", "Kalyani PHC", "5555")}
CANCEL_DATE = {"en": "14 Jun", "bn": "১২ জুন", "hi": "12 जून"}  # "on {date}": the date, not "today"
LANGS = ["en", "bn", "hi"]


def _appointment(lang):
    name, date, slot, site, code = BOOKED[lang]
    return "CON " + screen("ussd.appointment", lang, nav(lang, "back"), name=name, date=date, slot=slot, site=site, code=code)


def _status(world, lang):
    [ben] = rows(world, Beneficiary, Beneficiary.phone == BENEFICIARY[lang])
    return [a.status for a in rows(world, Appointment, Appointment.beneficiary_id == ben.id)]


@pytest.mark.parametrize("lang", LANGS)
def test_see_and_confirm_the_appointment(world, phone, lang):
    p = phone(BENEFICIARY[lang])
    assert p.dial() == "CON " + screen("ussd.ben_menu", lang)
    assert p.press("1") == _appointment(lang)
    _, date, slot, site, _ = BOOKED[lang]
    assert p.press("1") == "END " + screen("ussd.confirmed", lang, date=date, slot=slot, site=site)
    assert _status(world, lang) == ["confirmed"]


@pytest.mark.parametrize("lang", LANGS)
def test_the_appointment_screen_shows_no_security_code_and_none_is_kept_in_redis_or_the_inbox(world, phone, lang):
    from tikabot.store.models import InboundMessage

    code = BOOKED[lang][4]
    p = phone(BENEFICIARY[lang])
    p.dial()
    shown = p.press("1")
    assert shown.startswith("CON ") and code not in shown
    kept = [m.reply or "" for m in rows(world, InboundMessage)]
    assert kept and not any(code in reply for reply in kept)
    assert not any(code.encode() in (world.redis.dump(key) or b"") for key in world.redis.keys("*"))


@pytest.mark.parametrize("lang", LANGS)
def test_cancel_asks_first_and_back_keeps_it(world, phone, lang):
    p = phone(BENEFICIARY[lang])
    p.dial()
    p.press("1")
    date = CANCEL_DATE[lang]
    assert p.press("2") == "CON " + screen("ussd.cancel_ask", lang, nav(lang, "back"), date=date)
    assert p.press("0") == _appointment(lang)
    assert _status(world, lang) == ["booked"]
    p.press("2")
    assert p.press("1") == "END " + screen("ussd.cancelled", lang, date=date)
    assert _status(world, lang) == ["cancelled"]
    again = phone(BENEFICIARY[lang])
    again.dial()
    assert again.press("1") == "END " + screen("ussd.no_appointment", lang)


@pytest.mark.parametrize("lang", LANGS)
def test_get_a_verification_code(world, phone, lang):
    p = phone(BENEFICIARY[lang])
    p.dial()
    assert p.press("2") == "END " + screen("ussd.ben_code_sent", lang, phone=mask(BENEFICIARY[lang]))
    [sent] = rows(world, OutboundMessage)
    assert (sent.template, sent.recipient, sent.language) == ("otp.code", BENEFICIARY[lang], lang)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("choice, severity", [("1", "MINOR"), ("2", "SEVERE")])
def test_report_a_side_effect_with_what_was_felt(world, phone, lang, choice, severity):
    """Nobody to alert in this world: the SEVERE screen claims no alert, and says hospital or 108."""
    p = phone(BENEFICIARY[lang])
    p.dial()
    assert p.press("3") == "CON " + screen("ussd.aefi_ask", lang, nav(lang, "back"))
    assert p.press(choice) == "CON " + screen("ussd.aefi_note", lang, nav(lang, "back"))
    end = "ussd.aefi_minor" if severity == "MINOR" else "ussd.aefi_severe_nobody"
    assert p.press("2") == "END " + screen(end, lang)
    [event] = rows(world, AdverseEvent)
    assert (event.severity, event.source, event.reported_by, event.note) == (
        severity, "ussd", BENEFICIARY[lang], "breathing difficulty")
    if severity == "SEVERE":
        assert "108" in screen(end, lang) and "alert" not in screen(end, lang)


@pytest.mark.parametrize("lang", LANGS)
def test_a_severe_self_report_reaches_the_coordinator_and_medical_officer_by_sms(world, phone, lang, monkeypatch,
                                                                                   app):
    from dataclasses import replace

    from tikabot.store.models import Staff

    with world.transaction() as s:
        s.add(Staff(phone="+919830000009", name="Dr Sen", role="coordinator", site_id=None, language="bn",
                    telegram_user_id=555))
    web = app.extensions["tikabot"]
    monkeypatch.setattr(web, "config", replace(web.config, medical_officers=("+919830077777",)))
    p = phone(BENEFICIARY[lang])
    p.dial()
    p.press("3")
    p.press("2")
    assert p.press("1") == "END " + screen("ussd.aefi_severe_alerted", lang, count=2)
    alerts = rows(world, OutboundMessage, OutboundMessage.template == "alert.severe")
    assert sorted((m.channel, m.recipient, m.priority) for m in alerts) == [
        ("sms", "+919830000009", "otp"), ("sms", "+919830077777", "otp")]  # no bot token: no Telegram copy
    officer = next(m for m in alerts if m.recipient == "+919830077777")
    assert f"call {BENEFICIARY[lang]}" in officer.body and "Note: fainting" in officer.body
    assert "the beneficiary (USSD)" in officer.body


@pytest.mark.parametrize("lang", LANGS)
def test_change_language(world, phone, lang):
    choice, new = {"en": ("2", "bn"), "bn": ("3", "hi"), "hi": ("1", "en")}[lang]
    p = phone(BENEFICIARY[lang])
    p.dial()
    assert p.press("4") == "CON " + screen("ussd.lang_menu", lang, nav(lang, "back"))
    assert p.press(choice) == "CON " + screen("ussd.ben_menu", new)
    [ben] = rows(world, Beneficiary, Beneficiary.phone == BENEFICIARY[lang])
    assert ben.language == new


def test_a_stranger_sees_the_menu_and_is_told_to_register(world, phone):
    p = phone(STRANGER)
    assert p.dial() == "CON " + screen("ussd.ben_menu", "en")
    assert p.press("4") == "CON " + screen("ussd.lang_menu", "en", nav("en", "back"))
    assert p.press("2") == "CON " + screen("ussd.ben_menu", "bn")  # for this session
    assert p.press("1") == "END " + screen("ussd.not_registered", "bn")


def test_a_wrong_choice_is_named_and_the_screen_shown_again(world, phone):
    p = phone(BENEFICIARY["en"])
    p.dial()
    assert p.press("7") == "CON " + screen("ussd.invalid", "en") + "\n" + screen("ussd.ben_menu", "en")
    assert p.press("1") == _appointment("en")
