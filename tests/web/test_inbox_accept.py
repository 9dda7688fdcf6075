"""Accept first: the webhook keeps the message (inbox, or the spool while the database is locked)
and answers an empty <Response/>; a worker processes it after. Real SQLite locks, real files."""
from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import replace

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from tests.support import wait_for
from tests.support.signing import twilio_post
from tests.support.worlds.inbox import EMPTY_TWIML, kalyani, reply_to, settle
from tikabot.app import create_app
from tikabot.inbox.spool import spool_folder
from tikabot.store.models import Dose, InboundMessage, Beneficiary

STAFF = "+919830000001"
pytestmark = pytest.mark.skipif(bool(os.environ.get("TIKABOT_TEST_DATABASE_URL")),
                                reason="the lock held here is SQLite's (the chaos bench stops PostgreSQL)")


def post(client, body: str, sid: str, sender: str = STAFF):
    params = {"MessageSid": sid, "From": sender, "To": "+15005550006", "Body": body, "NumMedia": "0"}
    return twilio_post(client, "/sms/inbound", params)


@pytest.fixture
def staffed(app):
    services = app.extensions["tikabot"]
    site_id = kalyani(services, (STAFF, "Mita Roy", "en"))
    with services.transaction() as s:
        s.add_all([Beneficiary(ref=f"1234567{n}", name=f"Person {n}", phone=f"+91983001111{n}", language="bn",
                               site_id=site_id) for n in range(5)])
    return services


class HeldLock:
    """Another process's connection holding SQLite's exclusive lock: no one else reads or writes."""

    def __init__(self, database_url: str):
        self.conn = sqlite3.connect(make_url(database_url).database, isolation_level=None, timeout=30)

    def __enter__(self):
        self.conn.execute("BEGIN EXCLUSIVE")
        return self

    def __exit__(self, *exc):
        self.conn.execute("ROLLBACK")
        self.conn.close()


def inbox_rows(services) -> list[tuple[str, str]]:
    with services.sessions() as s:
        return [tuple(r) for r in s.execute(select(InboundMessage.provider_id, InboundMessage.status)
                                            .order_by(InboundMessage.id))]


def test_a_message_is_kept_and_answered_before_it_is_processed(client, staffed):
    response = post(client, "START COVISHIELD L9", "SM" + "1" * 32)
    assert (response.status_code, response.get_data(as_text=True)) == (200, EMPTY_TWIML)
    assert inbox_rows(staffed) == [("SM" + "1" * 32, "new")]  # kept, not yet processed
    assert reply_to(staffed, "SM" + "1" * 32).startswith("Session open: COVISHIELD lot L9")
    assert inbox_rows(staffed) == [("SM" + "1" * 32, "done")]


def test_a_replayed_message_sid_changes_nothing(client, staffed):
    for _ in range(3):
        assert post(client, "DOSE 12345670", "SM" + "2" * 32).status_code == 200
    assert settle(staffed) == 1
    assert post(client, "DOSE 12345670", "SM" + "2" * 32).status_code == 200
    assert settle(staffed) == 0
    assert inbox_rows(staffed) == [("SM" + "2" * 32, "done")]


TWILIO_WEBHOOK_TIMEOUT_S = 15  # Twilio gives up on a webhook after 15 s and never retries an SMS


def test_while_another_process_holds_the_database_the_spool_keeps_messages_in_order(client, staffed, config):
    sids = [f"SM{n:032d}" for n in range(4)]
    with HeldLock(config.database_url):
        started = time.monotonic()
        answers = [post(client, body, sid) for body, sid in zip(["START COVISHIELD L9", "DOSE 12345670",
                                                                 "DOSE 12345671"], sids)]
        waited = time.monotonic() - started  # the database stayed locked all along: none waited for it to free
        answers.append(post(client, "DOSE 12345671", sids[2]))  # a provider retry while spooled
        spool = spool_folder(config) / "inbox.spool"
        assert [a.status_code for a in answers] == [200] * 4
        assert all(a.get_data(as_text=True) == EMPTY_TWIML for a in answers)
        assert len(spool.read_bytes().splitlines()) == 4
        assert waited < TWILIO_WEBHOOK_TIMEOUT_S  # answered in time for the provider (about 1 s here)
    # the lock is gone: the web process drains the spool into the inbox, in order, once each
    assert wait_for(lambda: len(inbox_rows(staffed)) == 3)
    assert wait_for(lambda: not spool.exists() or not spool.read_bytes())
    assert [sid for sid, _ in inbox_rows(staffed)] == sids[:3]
    post(client, "COUNT", sids[3])  # after the spool: straight into the inbox, behind the others
    assert [sid for sid, _ in inbox_rows(staffed)] == sids
    assert "dose 1: 2" in reply_to(staffed, sids[3])  # START, both doses, then COUNT: in the order sent
    with staffed.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Dose)) == 2


def test_when_neither_the_database_nor_the_spool_can_keep_it_the_answer_is_503(config, tmp_path):
    app = create_app(replace(config, spool_dir="off"))
    try:
        with HeldLock(config.database_url):
            response = post(app.test_client(), "DOSE 12345670", "SM" + "3" * 32)
        assert response.status_code == 503  # nothing kept: Twilio tries again
        assert inbox_rows(app.extensions["tikabot"]) == []
    finally:
        app.extensions["tikabot"].close()


def test_a_spool_left_by_a_stopped_process_is_drained_by_the_worker(client, staffed, config):
    with HeldLock(config.database_url):
        assert post(client, "START COVISHIELD L9", "SM" + "4" * 32).status_code == 200
        staffed.inbox.close()  # the web process stops before it could drain
    assert inbox_rows(staffed) == []
    from tikabot.services import Services

    worker_side = Services.build(config)
    try:
        assert settle(worker_side) == 1  # the worker drains the spool, then processes
    finally:
        worker_side.close()
    assert inbox_rows(staffed) == [("SM" + "4" * 32, "done")]
