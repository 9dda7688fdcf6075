"""A vaccine named with a space in the vaccines file ("SPUTNIK V") picked from the USSD menu is
recorded as that vaccine, and the same dose by SMS afterwards is the same record."""
import pytest

from tests.support.vaccine_files import SPUTNIK_V, vaccines_file
from tests.support.worlds.inbox import sms
from tests.support.worlds.ussd import STAFF, rows, screen
from tikabot.flows.ussd_menus import nav
from tikabot.store.models import Dose, OutboundMessage


@pytest.fixture
def sputnik(tmp_path):
    with vaccines_file(tmp_path, SPUTNIK_V):
        yield


@pytest.mark.parametrize("lang", ["en", "bn"])
def test_pick_sputnik_v_from_the_menu(world, phone, sputnik, lang):
    p = phone(STAFF[lang])
    p.dial()
    p.press("1")
    p.press("12345678")
    assert p.press("1") == "CON " + screen("ussd.pick_vaccine", lang, "1 COVISHIELD", "2 COVAXIN", "3 SPUTNIK V",
                                           nav(lang, "back"))
    assert p.press("3") == "CON " + screen("ussd.ask_lot", lang, nav(lang, "back"))
    assert p.press("L77") == "CON " + screen("ussd.confirm_dose", lang, nav(lang, "back"), ref="12345678",
                                             name="Rahima", dose=1, vaccine="SPUTNIK V", lot="L77")
    assert p.press("1").startswith("CON " + screen("ussd.dose_recorded", lang, ref="12345678", name="Rahima",
                                                   dose=1, count=1))
    [dose] = rows(world, Dose, Dose.source == "ussd")
    assert (dose.vaccine, dose.lot) == ("SPUTNIK V", "L77")
    [confirmation] = rows(world, OutboundMessage)
    assert confirmation.template == "dose.confirmation" and "SPUTNIK V" in confirmation.body


def test_sputnik_v_by_ussd_then_by_sms_is_one_dose(world, phone, client, sputnik):
    p = phone(STAFF["en"])
    for value in (None, "1", "12345678", "1", "3", "L77", "1"):
        p.dial() if value is None else p.press(value)
    reply = sms(client, STAFF["bn"], "DOSE 12345678 1 SPUTNIK V L77", "SM" + "d" * 32)
    assert screen("staff.dose_duplicate", "bn", ref="12345678", dose=1) in reply
    [dose] = rows(world, Dose, Dose.source.in_(("sms", "ussd")))
    assert (dose.source, dose.vaccine) == ("ussd", "SPUTNIK V")
