"""A staff member bound to routes (staff.csv `report_via`) opens the USSD staff menu only when `ussd`
is one of them: the USSD gateway's token, like a gateway phone's key, names any caller."""
from sqlalchemy import update

from tests.support.worlds.ussd import STAFF, paged, rows, screen
from tikabot.flows.ussd_menus import nav
from tikabot.store.models import Dose, Staff, VaccinationSession


def bind(services, phone: str, routes: str | None) -> None:
    with services.transaction() as s:
        s.execute(update(Staff).where(Staff.phone == phone).values(report_via=routes))


def test_staff_bound_to_a_gateway_phone_are_refused_on_ussd_and_nothing_is_recorded(world, phone):
    bind(world, STAFF["bn"], "android:ranaghat")
    p = phone(STAFF["bn"])
    shown = [p.dial()]  # a long refusal is paged like any screen (98 reads on), and then ends
    while shown[-1].endswith("\n" + nav("bn", "more")):
        shown.append(p.press("98"))
    assert shown == paged("END ", screen("staff.wrong_route", "bn"), "bn")
    assert rows(world, Dose, Dose.source == "ussd") == [] and rows(world, VaccinationSession) == []


def test_staff_bound_to_ussd_and_unbound_staff_get_the_menu(world, phone):
    bind(world, STAFF["en"], "android:ranaghat ussd")
    assert phone(STAFF["en"]).dial() == "CON " + screen("ussd.staff_menu", "en")
    assert phone(STAFF["hi"]).dial() == "CON " + screen("ussd.staff_menu", "hi")  # unbound: as before
