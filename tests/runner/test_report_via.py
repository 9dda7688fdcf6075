"""Staff bound to the routes they report through (staff.csv `report_via`): a DOSE through any other
route or gateway phone is refused in the staff member's language and records nothing; through the
bound one it is recorded; an unbound member reports through any route, as before."""
from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from tests.support.worlds.runner import BN_STAFF, HI_STAFF, NOW, VACCINATOR, sayer
from tikabot.store.models import Dose, OutboundMessage, Staff, VaccinationSession

REFUSED = {
    "en": "Not accepted: your reports are taken only through the number set for you. Nothing was recorded; "
          "send it there or ask your coordinator.",
    "bn": "নথিভুক্ত হয়নি: রিপোর্ট শুধু আপনার জন্য ঠিক করা নম্বরে নেওয়া হয়। সেই নম্বরে পাঠান বা সমন্বয়কারীকে জানান।",
}
RECORDED = "Recorded: 12345678 (Rahima), dose 1, COVISHIELD lot L9. Today: 1."


@pytest.fixture
def send(world):
    """send(phone, text, via) -> the runner's reply, as if the SMS came in on route `via`."""
    say = sayer(world, at=NOW + timedelta(minutes=1))
    return lambda phone, text, via: say(phone, text, via=via)


def bind(services, phone: str, routes: str | None) -> None:
    with services.transaction() as s:
        s.execute(update(Staff).where(Staff.phone == phone).values(report_via=routes))


def doses(services) -> int:
    with services.sessions() as s:
        return s.scalar(select(func.count()).select_from(Dose).where(Dose.source == "sms"))


def test_a_dose_through_another_gateway_phone_is_refused_and_records_nothing(world, send, caplog):
    bind(world, VACCINATOR, "android:ranaghat")
    with caplog.at_level(logging.WARNING, logger="tikabot.runner.run"):
        assert send(VACCINATOR, "DOSE 12345678 1 CS L9", via="android:kalyani") == REFUSED["en"]
    assert doses(world) == 0
    with world.sessions() as s:  # nobody else was told anything: the refusal is the only message
        sent = s.execute(select(OutboundMessage.recipient, OutboundMessage.template, OutboundMessage.via)).all()
    assert sent == [(VACCINATOR, "staff.wrong_route", "android:kalyani")]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "android:kalyani" in logged and VACCINATOR not in logged and VACCINATOR[-2:] in logged

    assert send(VACCINATOR, "DOSE 12345678 1 CS L9", via="android:ranaghat") == RECORDED
    assert doses(world) == 1


@pytest.mark.parametrize("routes, via, accepted", [
    ("android:ranaghat", "twilio", False),
    ("android:ranaghat", "exotel", False),
    ("android:ranaghat", "", False),  # a route nobody named cannot vouch for a bound member
    ("android:ranaghat android:kalyani", "android:kalyani", True),
    ("android", "android:kalyani", True),  # any gateway phone
    ("android", "twilio", False),
    ("twilio", "twilio", True),
    ("twilio exotel", "exotel", True),
    (None, "exotel", True),  # unbound: any route, as before
    (None, "android:anywhere", True),
    (None, "", True),
])
def test_a_dose_is_recorded_only_through_a_bound_route(world, send, routes, via, accepted):
    bind(world, VACCINATOR, routes)
    reply = send(VACCINATOR, "DOSE 12345678 1 CS L9", via=via)
    assert (reply, doses(world)) == ((RECORDED, 1) if accepted else (REFUSED["en"], 0))


def test_the_refusal_is_in_the_staff_members_language_and_a_session_stays_closed(world, send):
    bind(world, BN_STAFF, "android:ranaghat")
    bind(world, HI_STAFF, "exotel")
    assert send(BN_STAFF, "START CS L9", via="exotel") == REFUSED["bn"]
    assert send(HI_STAFF, "COUNT", via="android:ranaghat").startswith("स्वीकार नहीं हुआ:")
    assert send(VACCINATOR, "COUNT", via="exotel").startswith("Kalyani PHC today")  # unbound: as before
    with world.sessions() as s:
        assert s.scalar(select(func.count()).select_from(VaccinationSession)) == 0
