"""A message the database cannot store never stops inbound processing: what no database can hold
is cleaned or refused with 400 before the INSERT (the same on SQLite and PostgreSQL); a spool line
that can still never be stored is set aside (dead-letter file, /metrics, one coordinator alert)
and the lines behind it go on; /readyz says so while the spool is not draining."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.support.apps import GATEWAY_KEY as KEY, built_app, every_channel
from tests.support.credentials import EXOTEL_CALLBACK_TOKEN as EXOTEL_TOKEN
from tests.support.signing import smsgate_headers, twilio_post
from tikabot.core import clock
from tikabot.inbox.accept import new_inbox
from tikabot.inbox.spool import record
from tikabot.store.models import InboundMessage, OutboundMessage, Staff


@pytest.fixture
def app(config, tmp_path):
    with built_app(config, **every_channel(tmp_path)) as flask_app:
        yield flask_app


@pytest.fixture
def services(app):
    return app.extensions["tikabot"]


def twilio(client, sid: str, sender: str, body: str = "HELP"):
    params = {"MessageSid": sid, "From": sender, "To": "+15005550006", "Body": body, "NumMedia": "0"}
    return twilio_post(client, "/sms/inbound", params)


def smsgate(client, body: bytes):
    return client.post("/channels/smsgate", data=body, headers=smsgate_headers(body, KEY))


def inbox(services) -> list[InboundMessage]:
    with services.sessions() as s:
        return list(s.scalars(select(InboundMessage).order_by(InboundMessage.id)))


@pytest.mark.parametrize("sid, sender", [("SM" + "a" * 31 + "\x00", "+919830000001"),
                                         ("SM" + "b" * 32, "+91983\x000000001"),
                                         ("SM" + "c" * 70, "+919830000001")])
def test_an_id_or_sender_no_database_can_hold_is_refused_with_400_and_the_next_message_goes_in(
        client, services, sid, sender):
    answer = twilio(client, sid, sender)
    assert answer.status_code == 400 and (b"NUL" in answer.data or b"longer" in answer.data), answer.data
    assert twilio(client, "SM" + "d" * 32, "+919830000002").status_code == 200
    assert [m.provider_id for m in inbox(services)] == ["SM" + "d" * 32]
    assert services.inbox.spool.backlog() is False  # nothing went to the spool as if the database were down


def test_a_nul_or_a_lone_surrogate_in_the_text_is_replaced_and_the_message_kept(client, services):
    body = json.dumps({"event": "sms:received", "payload": {
        "message": "DOSE 1234\x00567\ud800", "phoneNumber": "+919830000003",
        "receivedAt": "2024-06-01T10:00:00.000+05:30"}}).encode()  # JSON escapes: \u0000, \ud800
    assert smsgate(client, body).status_code == 200
    exotel = client.post(f"/channels/exotel/inbound?token={EXOTEL_TOKEN}", data={
        "SmsSid": "exo-1", "From": "09830000004", "To": "08030000000", "Body": "COUNT\x00"})
    assert exotel.status_code == 200
    kept = {m.sender: m.body for m in inbox(services)}
    assert kept["+919830000003"].startswith("DOSE 1234") and kept["+919830000003"].endswith("567\ufffd")
    assert "\x00" not in kept["+919830000004"] and "\x00" not in kept["+919830000003"]


def spool_lines(services, rows: list[dict]) -> None:
    folder = services.inbox.spool.folder
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "inbox.spool", "ab") as f:
        for row in rows:
            f.write((json.dumps(row, ensure_ascii=False) + "\n").encode())


def spooled(sid: str, sender: str, at=None) -> dict:
    return record(sid, "sms", sender, "HELP", "twilio", at or clock.now())


@pytest.fixture
def quiet_inbox(services):
    """The process's inbox, with no drainer thread: the test drains when it says so."""
    services.inbox = new_inbox(services)
    with services.transaction() as s:
        s.add(Staff(phone="+919830099999", name="Rina Das", role="coordinator", language="en"))
    return services.inbox


def test_a_spool_line_that_can_never_be_stored_is_set_aside_and_the_lines_behind_it_go_in(
        client, services, quiet_inbox):
    # lines an older version spooled: a sender with a NUL (PostgreSQL refuses it), then good ones
    spool_lines(services, [spooled("SM-poison-1", "+91983\x000000001"), spooled("SM-good-1", "+919830000005"),
                           spooled("SM-good-2", "+919830000006")])
    assert quiet_inbox.drain() == 3
    assert [m.provider_id for m in inbox(services)] == ["SM-good-1", "SM-good-2"]
    assert not quiet_inbox.spool.backlog()
    dead = [json.loads(line) for line in (quiet_inbox.spool.folder / "inbox.spool.dead").read_text().splitlines()]
    assert len(dead) == 1 and json.loads(dead[0]["line"])["provider_id"] == "SM-poison-1" and dead[0]["reason"]
    assert "tikabot_spool_set_aside_total 1.0" in client.get("/metrics").get_data(as_text=True)

    spool_lines(services, [spooled("SM-poison-2", "x" * 80), spooled("SM-good-3", "+919830000007")])
    quiet_inbox.drain()
    assert [m.provider_id for m in inbox(services)][-1] == "SM-good-3"
    assert "tikabot_spool_set_aside_total 2.0" in client.get("/metrics").get_data(as_text=True)
    with services.sessions() as s:  # coordinators are told once, not once per line
        alerts = list(s.scalars(select(OutboundMessage).where(OutboundMessage.template == "alert.spool_set_aside")))
    assert len(alerts) == 1 and alerts[0].recipient == "+919830099999"


@pytest.mark.parametrize("received_at", ["0001-01-01T00:00:00+05:30", "2024-06-01T10:00:00"])
def test_a_spool_line_whose_time_the_database_refuses_is_set_aside_too(services, quiet_inbox, received_at):
    poison = {**spooled("SM-time-1", "+919830000009"), "received_at": received_at}  # overflows UTC / has no offset
    spool_lines(services, [poison, spooled("SM-good-4", "+919830000010")])
    quiet_inbox.drain()
    assert [m.provider_id for m in inbox(services)] == ["SM-good-4"]
    assert quiet_inbox.spool.set_aside_count() == 1 and not quiet_inbox.spool.backlog()
    spool_lines(services, [poison])  # the same line again (a drain cut short by a crash is done again)
    quiet_inbox.drain()
    assert quiet_inbox.spool.set_aside_count() == 1


def test_readyz_fails_while_the_spool_is_not_draining(client, services, quiet_inbox, monkeypatch):
    monkeypatch.setenv("TIKABOT_SPOOL_STALE_S", "60")
    spool_lines(services, [spooled("SM-old-1", "+919830000008", clock.now() - timedelta(minutes=5))])
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json["checks"]["spool"].startswith("error: oldest spooled message waiting")
    assert "tikabot_spool_oldest_age_seconds 3" in client.get("/metrics").get_data(as_text=True)
    quiet_inbox.drain()
    answer = client.get("/readyz")
    assert answer.status_code == 200 and answer.json["checks"]["spool"] == "ok"
