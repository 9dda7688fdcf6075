"""The small district (tests/support/worlds/small_district.py) with staff in three languages, for runner tests."""
from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from tests.support.worlds.small_district import NOW, PHONES, add_district
from tikabot.core.message import InboundMessage
from tikabot.inbox.now import handle
from tikabot.store.models import Staff

VACCINATOR, BN_STAFF, HI_STAFF, NO_SITE_STAFF = "+919830000001", "+919830000002", "+919830000003", "+919830000004"
COORDINATOR = "+919830000009"
RAHIMA_PHONE, AMIT_PHONE, STRANGER = PHONES["rahima"], PHONES["amit"], "+919830099999"


@pytest.fixture
def world(services):
    with services.transaction() as s:
        kal = add_district(s).kal
        s.add_all([
            Staff(phone=VACCINATOR, name="Mita Roy", role="vaccinator", site_id=kal.id, language="en"),
            Staff(phone=BN_STAFF, name="Sima Paul", role="vaccinator", site_id=kal.id, language="bn"),
            Staff(phone=HI_STAFF, name="Ravi Kumar", role="verifier", site_id=kal.id, language="hi"),
            Staff(phone=NO_SITE_STAFF, name="Nobody", role="vaccinator", site_id=None, language="en"),
            Staff(phone="+919830000008", name="Gone", role="vaccinator", site_id=kal.id, active=False),
            Staff(phone=COORDINATOR, name="Dr Sen", role="coordinator", site_id=None, language="en"),
        ])
    return services


def sayer(services, at=NOW, via: str | None = None):
    """say(phone, text, minutes=0, sid=None, via=via) -> the reply the runner gives an SMS handled at `at`
    (a time, or a callable reading one) + minutes; None: no reply. Each SMS gets the next id."""
    ids = itertools.count(1)

    def say(phone: str, text: str, minutes: float = 0, sid: str | None = None, via: str | None = via):
        message = InboundMessage(channel="sms", provider_id=sid or f"SM{next(ids):032d}", sender=phone, text=text,
                                 via=via)
        now = at() if callable(at) else at
        return handle(services, message, now=now + timedelta(minutes=minutes)).reply

    return say


@pytest.fixture
def say(world):
    """say(phone, text, minutes=0) -> reply text, as the runner would answer at NOW + minutes."""
    return sayer(world)


def transcript(say, phone: str, dialog: list[tuple[str, str | None]]) -> None:
    """Each (sent, expected reply) in turn; expected None means no reply at all."""
    for sent, expected in dialog:
        assert say(phone, sent) == expected, sent
