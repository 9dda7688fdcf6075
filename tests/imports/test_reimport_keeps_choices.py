"""Re-importing the registries keeps what people chose over SMS and USSD.

A district imports its four files, people answer (LANG, STOP, YES, NO by SMS; the same choices in
the USSD menus), and the operator imports the same files again, as `./run up` does on every start,
the next day too (the sample dates are relative to the import day). Nothing anyone chose is undone.
"""
from __future__ import annotations

import itertools

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from tests.support.worlds.runner import sayer
from tikabot.core import clock
from tikabot.imports.runner import run_import
from tikabot.store.models import Appointment, Beneficiary, OutboundMessage, Staff

NOW = datetime(2025, 6, 12, 5, 0, tzinfo=timezone.utc)  # 10:30 in Kolkata
TODAY = date(2025, 6, 12)
VACCINATOR = "+919830000001"
PHONES = {"rahima": "+919830011111", "amit": "+919830022222", "lata": "+919830033333", "jiban": "+919830044444"}
FILES = {
    "sites": "code,name,district,state\nKAL,Kalyani PHC,Nadia,West Bengal\n",
    "staff": "phone,name,role,site_code,language,telegram_user_id\n"
             f"{VACCINATOR},Mita Roy,vaccinator,KAL,bn,\n",
    "beneficiaries": "ref,name,phone,language,category,site_code\n"
                     f"12345678,Rahima Khatun,{PHONES['rahima']},bn,60+,KAL\n"
                     f"23456789,Amit Das,{PHONES['amit']},bn,60+,KAL\n"
                     f"34567890,Lata Mondal,{PHONES['lata']},bn,60+,KAL\n"
                     f"45678901,Jiban Saha,{PHONES['jiban']},bn,60+,KAL\n",
    "appointments": "ref,site_code,dose,date,slot\n"
                    "12345678,KAL,1,today,15:00-17:00\n"
                    "23456789,KAL,1,today,15:00-17:00\n"
                    "34567890,KAL,1,tomorrow,09:00-11:00\n"
                    "45678901,KAL,1,tomorrow,11:00-13:00\n",
}
UNCHANGED = {"sites": "sites: imported 0, updated 0, unchanged 1, rejected 0",
             "staff": "staff: imported 0, updated 0, unchanged 1, rejected 0",
             "beneficiaries": "beneficiaries: imported 0, updated 0, unchanged 4, rejected 0",
             "appointments": "appointments: imported 0, updated 0, unchanged 4, rejected 0"}


@pytest.fixture
def moment(monkeypatch):
    """The clock imports and the runner read; moment["now"] moves it."""
    current = {"now": NOW}
    monkeypatch.setattr(clock, "now", lambda: current["now"])
    return current


@pytest.fixture
def district(services, tmp_path, moment):
    for kind, text in FILES.items():
        (tmp_path / f"{kind}.csv").write_text(text, encoding="utf-8")
    import_all(services, tmp_path)
    return tmp_path


def import_all(services, folder) -> dict[str, str]:
    return {kind: run_import(services.sessions, kind, folder / f"{kind}.csv").summary() for kind in FILES}


@pytest.fixture
def sms(services, moment):
    return sayer(services, at=lambda: moment["now"])


@pytest.fixture
def ussd(client, moment):
    """ussd(phone, *presses) -> the last screen, one request per press as the gateway sends them."""
    ids = itertools.count(1)

    def _ussd(phone: str, *presses: str) -> str:
        session_id, inputs, body = f"ATUid_{next(ids):08x}", [], ""
        for press in ("", *presses):
            if press:
                inputs.append(press)
            form = {"sessionId": session_id, "serviceCode": "*384*1234#", "phoneNumber": phone,
                    "networkCode": "40410", "text": "*".join(inputs)}
            response = client.post("/ussd?token=test-ussd-token", data=form)
            assert response.status_code == 200
            body = response.get_data(as_text=True)
        return body
    return _ussd


def people(services) -> dict[str, Beneficiary]:
    with services.sessions() as s:
        return {b.name.split()[0].lower(): b for b in s.scalars(select(Beneficiary))}


def statuses(services) -> dict[str, tuple[str, date]]:
    with services.sessions() as s:
        rows = s.execute(select(Beneficiary.name, Appointment.status, Appointment.date)
                         .join(Appointment, Appointment.beneficiary_id == Beneficiary.id)).all()
    return {name.split()[0].lower(): (status, day) for name, status, day in rows}


def staff_language(services) -> str:
    with services.sessions() as s:
        return s.scalar(select(Staff.language).where(Staff.phone == VACCINATOR))


def test_choices_made_by_sms_survive_a_reimport_of_the_same_files(services, district, sms):
    assert sms(PHONES["rahima"], "LANG EN") is not None
    assert sms(PHONES["amit"], "STOP") is not None
    assert sms(PHONES["lata"], "YES") is not None
    assert sms(PHONES["jiban"], "NO") is not None
    assert sms(VACCINATOR, "LANG HI") is not None
    assert import_all(services, district) == UNCHANGED
    found = people(services)
    assert found["rahima"].language == "en" and found["rahima"].language_chosen_at == NOW
    assert found["amit"].opted_out is True
    assert statuses(services)["lata"][0] == "confirmed"
    assert statuses(services)["jiban"][0] == "cancelled"
    assert staff_language(services) == "hi"


def test_choices_made_in_the_ussd_menus_survive_a_reimport(services, district, ussd):
    assert ussd(PHONES["rahima"], "4", "1").startswith("CON ")  # Language -> English
    assert ussd(PHONES["lata"], "1", "1").startswith("END ")  # My appointment -> Confirm
    assert ussd(PHONES["jiban"], "1", "2", "1").startswith("END ")  # My appointment -> Cancel -> Yes
    assert ussd(VACCINATOR, "5", "3").startswith("CON ")  # staff menu: Language -> Hindi
    assert import_all(services, district) == UNCHANGED
    assert people(services)["rahima"].language == "en"
    assert {k: v[0] for k, v in statuses(services).items()} == {
        "rahima": "booked", "amit": "booked", "lata": "confirmed", "jiban": "cancelled"}
    assert staff_language(services) == "hi"


def test_the_registry_still_sets_a_language_nobody_chose(services, district, sms):
    sms(PHONES["rahima"], "LANG EN")
    path = district / "beneficiaries.csv"
    path.write_text(FILES["beneficiaries"].replace(",bn,", ",hi,"), encoding="utf-8")
    summary = run_import(services.sessions, "beneficiaries", path).summary()
    assert summary == "beneficiaries: imported 0, updated 3, unchanged 1, rejected 0"
    assert {k: b.language for k, b in people(services).items()} == {
        "rahima": "en", "amit": "hi", "lata": "hi", "jiban": "hi"}


def test_the_next_days_import_moves_the_live_day_but_never_reopens_a_cancellation(services, district, sms, moment):
    sms(PHONES["jiban"], "NO")
    sms(PHONES["lata"], "YES")
    sms(VACCINATOR, "START COVISHIELD 4120Z025")
    sms(VACCINATOR, "DOSE 12345678")
    assert statuses(services)["rahima"] == ("done", TODAY)
    notices = booking_notices(services)
    moment["now"] = NOW + timedelta(days=1)  # `./run up` the next morning re-imports the samples
    summary = run_import(services.sessions, "appointments", district / "appointments.csv").summary()
    assert summary == "appointments: imported 0, updated 3, unchanged 1, rejected 0"
    tomorrow = TODAY + timedelta(days=1)
    assert statuses(services) == {"rahima": ("done", TODAY), "amit": ("booked", tomorrow),
                                  "lata": ("confirmed", tomorrow + timedelta(days=1)),
                                  "jiban": ("cancelled", tomorrow + timedelta(days=1))}
    new = booking_notices(services)[len(notices):]
    assert PHONES["amit"] in new and PHONES["jiban"] not in new  # nothing new for a cancelled visit


def booking_notices(services) -> list[str]:
    with services.sessions() as s:
        return list(s.scalars(select(OutboundMessage.recipient).where(OutboundMessage.template == "appt.booked")
                              .order_by(OutboundMessage.id)))


def test_a_missed_appointment_given_a_new_date_is_booked_again(services, district, moment):
    with services.transaction() as s:
        s.execute(Appointment.__table__.update().values(status="missed"))
    path = district / "appointments.csv"
    path.write_text(FILES["appointments"].replace("tomorrow", "today+7"), encoding="utf-8")
    assert run_import(services.sessions, "appointments", path).summary() == (
        "appointments: imported 0, updated 2, unchanged 2, rejected 0")
    assert {k: v[0] for k, v in statuses(services).items()} == {
        "rahima": "missed", "amit": "missed", "lata": "booked", "jiban": "booked"}
