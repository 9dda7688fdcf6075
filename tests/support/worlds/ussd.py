"""The small district (tests/support/worlds/small_district.py) and a phone that dials the USSD code through the real /ussd endpoint (fixtures in conftest)."""
from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from tests.support.credentials import USSD_TOKEN
from tests.support.signing import ussd_headers, ussd_path
from tests.support.worlds.small_district import NOW, PHONES, TODAY, add_district, hashed
from tikabot.store.models import Appointment, Staff

TOKEN = USSD_TOKEN
STAFF = {"en": "+919830000001", "bn": "+919830000002", "hi": "+919830000003"}
BENEFICIARY = {"en": PHONES["amit"], "bn": PHONES["rahima"], "hi": PHONES["lata"]}
STRANGER = "+919830099999"
NO_SITE_STAFF = "+919830000004"


@pytest.fixture
def world(services):
    with services.transaction() as s:
        district = add_district(s)
        kal = district.kal
        for lang, phone in STAFF.items():
            s.add(Staff(phone=phone, name=f"Staff {lang}", role="vaccinator", site_id=kal.id, language=lang))
        s.add(Staff(phone=NO_SITE_STAFF, name="Nobody", role="vaccinator", site_id=None, language="en"))
        s.add(Appointment(beneficiary_id=district.lata.id, site_id=kal.id, dose_number=2, date=TODAY,
                          slot="09:00-11:00", security_code_hash=hashed(district.lata.id, "5555")))
    return services


@pytest.fixture
def at_now(monkeypatch):
    """Freeze the clock the runners read at NOW (+ minutes)."""
    from tikabot.core import clock

    moment = {"now": NOW}
    monkeypatch.setattr(clock, "now", lambda: moment["now"])

    def _set(minutes: float = 0):
        moment["now"] = NOW + timedelta(minutes=minutes)
    return _set


@pytest.fixture
def post(client):
    """post(form, token=TOKEN, header=False) -> the response of POST /ussd."""
    def _post(form: dict, token: str | None = TOKEN, header: bool = False):
        if token is not None and header:
            return client.post("/ussd", data=form, headers=ussd_headers(token))
        return client.post(ussd_path(token), data=form)
    return _post


class Phone:
    """A feature phone in one USSD session: each press sends every input so far, as the gateway does."""
    _ids = itertools.count(1)

    def __init__(self, post, number: str):
        self.post, self.number = post, number
        self.session_id = f"ATUid_{next(self._ids):08x}{number[-4:]}"
        self.inputs: list[str] = []
        self.screens: list[str] = []

    def form(self) -> dict:
        return {"sessionId": self.session_id, "serviceCode": "*384*1234#", "phoneNumber": self.number,
                "networkCode": "40410", "text": "*".join(self.inputs)}

    def dial(self) -> str:
        return self._send()

    def press(self, value: str) -> str:
        self.inputs.append(value)
        return self._send()

    def press_all(self, value: str) -> list[str]:
        """Every page of the screen that pressing value shows, reading on with 98 while a page
        ends in the "98 More" line."""
        from tikabot.flows.ussd_menus import nav

        more = {nav(lang, "more") for lang in ("en", "bn", "hi")}
        shown = [self.press(value)]
        while shown[-1].rsplit("\n", 1)[-1] in more:
            shown.append(self.press("98"))
        return shown

    def _send(self) -> str:
        response = self.post(self.form())
        assert response.status_code == 200, response.data
        assert response.mimetype == "text/plain"
        body = response.get_data(as_text=True)
        assert body[:4] in ("CON ", "END "), body
        assert len(body) <= 182, (len(body), body)
        assert fits(body[4:]), body  # 160 octets: 182 GSM-7 or 80 UCS-2 characters, CON/END included
        self.screens.append(body)
        return body


@pytest.fixture
def phone(world, post, at_now):
    return lambda number: Phone(post, number)


def screen(key: str, lang: str, *nav: str, **params) -> str:
    """A screen as the menus compose it: the catalog text, then its navigation lines."""
    from tikabot.i18n.catalog import render

    return "\n".join([render(key, lang, **params), *nav])


def paged(prefix: str, text: str, lang: str) -> list[str]:
    """The pages a screen is shown in: "CON " on each but the last, which has prefix (CON or END)."""
    from tikabot.flows.ussd_menus import pages

    shown = pages(text, lang)
    return ["CON " + page for page in shown[:-1]] + [prefix + shown[-1]]


def fits(text: str) -> bool:
    from tikabot.flows.ussd_menus import fits as one_screen

    return one_screen(text)


def rows(services, model, *where):
    from sqlalchemy import select

    with services.sessions() as s:
        return list(s.scalars(select(model).where(*where)))
