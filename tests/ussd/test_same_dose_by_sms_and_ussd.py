"""A dose reported by USSD and by SMS is one record, whichever comes first."""

from tests.support.worlds.inbox import not_replies, sms
from tests.support.worlds.ussd import STAFF, rows, screen
from tikabot.flows.ussd_menus import nav
from tikabot.store.models import Dose, OutboundMessage


def ussd_dose(phone, staff: str, lot: str = "L9") -> str:
    p = phone(staff)
    for value in (None, "1", "12345678", "1", "1", lot):
        p.dial() if value is None else p.press(value)
    return p.press("1")


def test_ussd_first_then_sms(world, phone, client):
    assert ussd_dose(phone, STAFF["en"]).startswith("CON " + screen("ussd.dose_recorded", "en", ref="12345678",
                                                                    name="Rahima", dose=1, count=1))
    reply = sms(client, STAFF["bn"], "DOSE 12345678 1 COVISHIELD L9", "SM" + "a" * 32)
    assert screen("staff.dose_duplicate", "bn", ref="12345678", dose=1) in reply
    [dose] = rows(world, Dose, Dose.source.in_(("sms", "ussd")))
    assert (dose.source, dose.vaccinator_phone) == ("ussd", STAFF["en"])
    assert len(rows(world, Dose)) == 3  # two paper doses and this one
    assert [m.template for m in rows(world, OutboundMessage, *not_replies())] == ["dose.confirmation"]


def test_sms_first_then_ussd(world, phone, client):
    sms(client, STAFF["en"], "DOSE 12345678 1 COVISHIELD L9", "SM" + "b" * 32)
    p = phone(STAFF["hi"])
    for value in (None, "1", "12345678"):
        p.dial() if value is None else p.press(value)
    assert p.press("1") == "CON " + screen("ussd.dose_duplicate", "hi", nav("hi", "back", "menu"), ref="12345678", dose=1)
    [dose] = rows(world, Dose, Dose.source.in_(("sms", "ussd")))
    assert dose.source == "sms"
    assert [m.template for m in rows(world, OutboundMessage, *not_replies())] == ["dose.confirmation"]


def test_sms_arriving_between_ussd_confirm_screen_and_yes(world, phone, client):
    p = phone(STAFF["en"])
    for value in (None, "1", "12345678", "1", "1", "L9"):
        p.dial() if value is None else p.press(value)
    sms(client, STAFF["bn"], "DOSE 12345678 1 COVISHIELD L9", "SM" + "c" * 32)
    assert p.press("1") == "CON " + screen("ussd.dose_duplicate", "en", nav("en", "back", "menu"), ref="12345678", dose=1)
    [dose] = rows(world, Dose, Dose.source.in_(("sms", "ussd")))
    assert dose.source == "sms"
