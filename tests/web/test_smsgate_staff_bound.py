"""One gateway phone's key speaks only for the staff bound to that phone (staff.csv `report_via`):
DOSE reports through POST /channels/smsgate, signed with each phone's real key, then processed by
the inbox worker as in production."""
from __future__ import annotations

import itertools
import json

import pytest
from sqlalchemy import func, select

from tests.support.apps import built_app
from tests.support.signing import smsgate_headers
from tests.support.worlds.inbox import settle
from tests.support.worlds.small_district import NOW, add_district
from tikabot.core import clock
from tikabot.config import GatewayPhone
from tikabot.store.models import Dose, OutboundMessage, Staff

KEYS = {"ranaghat": "phone-signing-key-ranaghat", "kalyani": "phone-signing-key-kalyani"}
PHONES = tuple(GatewayPhone(id=name, url=f"http://10.0.0.{n}:8080", username="sms", password="pw", signing_key=key)
               for n, (name, key) in enumerate(KEYS.items(), start=7))
MITA, ASHA = "+919830000001", "+919830000002"  # Mita is bound to the Ranaghat phone; Asha to nothing


@pytest.fixture
def app(config, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)
    with built_app(config, smsgate_phones=PHONES) as flask_app:
        yield flask_app


@pytest.fixture
def world(services):
    with services.transaction() as s:
        kal = add_district(s).kal
        s.add_all([Staff(phone=MITA, name="Mita Roy", role="vaccinator", site_id=kal.id, language="en",
                         report_via="android:ranaghat"),
                   Staff(phone=ASHA, name="Asha Das", role="vaccinator", site_id=kal.id, language="bn")])
    return services


@pytest.fixture
def text(client, world):
    """text(sender, message, phone) -> the reply queued to sender, after the phone's signed webhook."""
    ids = itertools.count(1)

    def _text(sender: str, message: str, phone: str) -> str | None:
        n = next(ids)
        body = json.dumps({"id": f"ev{n}", "webhookId": "wh1", "deviceId": "dev1", "event": "sms:received",
                           "payload": {"messageId": f"m{n}", "message": message, "sender": sender,
                                       "recipient": None, "simNumber": 1,
                                       "receivedAt": f"2025-06-12T10:3{n}:00.000+05:30"}}).encode()
        response = client.post("/channels/smsgate", data=body, headers=smsgate_headers(body, KEYS[phone]))
        assert response.status_code == 200, response.data
        settle(world)
        with world.sessions() as s:
            return s.scalars(select(OutboundMessage.body).where(
                OutboundMessage.recipient == sender, OutboundMessage.priority == "reply")
                .order_by(OutboundMessage.id.desc())).first()

    return _text


def doses_by(services, phone: str) -> int:
    with services.sessions() as s:
        return s.scalar(select(func.count()).select_from(Dose).where(Dose.vaccinator_phone == phone))


def test_another_phones_key_cannot_report_for_a_bound_vaccinator(text, world):
    assert text(MITA, "DOSE 12345678 1 CS L9", phone="kalyani").startswith("Not accepted:")
    assert doses_by(world, MITA) == 0
    assert text(MITA, "DOSE 12345678 1 CS L9", phone="ranaghat").startswith("Recorded: 12345678 (Rahima), dose 1")
    assert doses_by(world, MITA) == 1


def test_an_unbound_vaccinator_reports_through_any_phone_as_before(text, world):
    assert text(ASHA, "DOSE 12345678 1 CS L9", phone="kalyani").startswith("নথিভুক্ত")
    assert text(ASHA, "DOSE 34567890 2 CS L9", phone="ranaghat").startswith("নথিভুক্ত")
    assert doses_by(world, ASHA) == 2
