"""A small district for runner tests: two sites, staff in three languages, a few beneficiaries."""
from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta, timezone

import pytest

from tikabot.runner import InboundMessage, handle
from tikabot.store.models import Appointment, Beneficiary, Dose, Site, Staff

NOW = datetime(2025, 6, 12, 5, 0, tzinfo=timezone.utc)  # 10:30 in Kolkata
TODAY = date(2025, 6, 12)
VACCINATOR, BN_STAFF, HI_STAFF, NO_SITE_STAFF = "+919830000001", "+919830000002", "+919830000003", "+919830000004"
COORDINATOR = "+919830000009"
RAHIMA_PHONE, AMIT_PHONE, STRANGER = "+919830011111", "+919830022222", "+919830099999"


@pytest.fixture
def world(services):
    with services.transaction() as s:
        kal = Site(code="KAL", name="Kalyani PHC", district="Nadia", state="WB")
        bar = Site(code="BAR", name="Barasat SDH", district="North 24 Parganas", state="WB")
        s.add_all([kal, bar])
        s.flush()
        s.add_all([
            Staff(phone=VACCINATOR, name="Mita Roy", role="vaccinator", site_id=kal.id, language="en"),
            Staff(phone=BN_STAFF, name="Sima Paul", role="vaccinator", site_id=kal.id, language="bn"),
            Staff(phone=HI_STAFF, name="Ravi Kumar", role="verifier", site_id=kal.id, language="hi"),
            Staff(phone=NO_SITE_STAFF, name="Nobody", role="vaccinator", site_id=None, language="en"),
            Staff(phone="+919830000008", name="Gone", role="vaccinator", site_id=kal.id, active=False),
            Staff(phone=COORDINATOR, name="Dr Sen", role="coordinator", site_id=None, language="en"),
        ])
        rahima = Beneficiary(ref="12345678", name="Rahima Khatun", phone=RAHIMA_PHONE, language="bn", site_id=kal.id)
        amit = Beneficiary(ref="23456789", name="Amit Das", phone=AMIT_PHONE, language="en", site_id=bar.id)
        due2 = Beneficiary(ref="34567890", name="Lata Mondal", phone="+919830033333", language="hi", site_id=kal.id)
        early2 = Beneficiary(ref="45678901", name="Jiban Saha", phone="+919830044444", language="en", site_id=kal.id)
        s.add_all([rahima, amit, due2, early2])
        s.flush()
        s.add_all([
            Appointment(beneficiary_id=rahima.id, site_id=kal.id, dose_number=1, date=TODAY, slot="09:00-11:00",
                        security_code="4321"),
            Appointment(beneficiary_id=amit.id, site_id=bar.id, dose_number=1, date=TODAY + timedelta(days=2),
                        slot="11:00-13:00", security_code="8765"),
            Dose(beneficiary_id=due2.id, dose_number=1, vaccine="COVISHIELD", lot="L1", site_id=kal.id,
                 administered_at=NOW - timedelta(days=30), source="paper"),
            Dose(beneficiary_id=early2.id, dose_number=1, vaccine="COVAXIN", lot="L2", site_id=kal.id,
                 administered_at=NOW - timedelta(days=10), source="paper"),
        ])
    return services


@pytest.fixture
def say(world):
    """say(phone, text, minutes=0) -> reply text, as the runner would answer at NOW + minutes."""
    ids = itertools.count(1)

    def _say(phone: str, text: str, minutes: float = 0, sid: str | None = None):
        message = InboundMessage(channel="sms", provider_id=sid or f"SM{next(ids):032d}", sender=phone, text=text)
        return handle(world, message, now=NOW + timedelta(minutes=minutes)).reply

    return _say


def transcript(say, phone: str, dialog: list[tuple[str, str | None]]) -> None:
    """Each (sent, expected reply) in turn; expected None means no reply at all."""
    for sent, expected in dialog:
        assert say(phone, sent) == expected, sent
