"""An import of a big file never holds the database's write lock long enough to fail a webhook:
while it runs, a message is recorded by a writer that waits at most 2 s (busy_timeout=2000), as
an inbound SMS would be. Conditions, not timings: each write either gets in within its 2 s or fails."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from tests.support import wait_for
from tikabot.imports.runner import run_import
from tikabot.store.models import Beneficiary, InboundMessage

ROWS = 5_000
WRITES = 4


@pytest.fixture
def big_file(services, tmp_path):
    sites = tmp_path / "sites.csv"
    sites.write_text("code,name,district,state\nS001,Kalyani PHC,Nadia,West Bengal\n", encoding="utf-8")
    run_import(services.sessions, "sites", sites)
    path = tmp_path / "beneficiaries.csv"
    lines = ["ref,name,phone,language,category,site_code"]
    lines += [f"{70_000_000 + i},Person {i},+9199{i:08d},bn,,S001" for i in range(ROWS)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def record_message(engine, number: int) -> None:
    """One INSERT as a webhook makes it, giving up after 2 s of waiting for the write lock."""
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        if engine.dialect.name == "sqlite":
            cur.execute("PRAGMA busy_timeout=2000")
            cur.execute("BEGIN IMMEDIATE")
        else:
            cur.execute("SET lock_timeout = '2s'")
        cur.execute("INSERT INTO inbound_messages (provider_id, channel, sender, body, received_at) "
                    f"VALUES ('SM-during-import-{number}', 'sms', '+919830000001', 'COUNT', CURRENT_TIMESTAMP)")
        cur.execute("COMMIT") if engine.dialect.name == "sqlite" else raw.commit()
    finally:
        raw.close()


def imported(services) -> int:
    with services.sessions() as s:
        return s.scalar(select(func.count()).select_from(Beneficiary))


def run_in_thread(target) -> tuple[threading.Thread, dict]:
    outcome: dict = {}

    def _run():
        try:
            outcome["result"] = target()
        except BaseException as exc:  # reported by the test, not lost in the thread
            outcome["error"] = exc
    thread = threading.Thread(target=_run, daemon=True)
    thread.start()
    return thread, outcome


def test_messages_are_recorded_while_a_big_import_runs(services, big_file):
    thread, outcome = run_in_thread(lambda: run_import(services.sessions, "beneficiaries", big_file))
    seen = 0
    for number in range(WRITES):
        # a chunk was committed since the last write (and the import still runs, else the test says nothing)
        wait_for(lambda: imported(services) > seen or not thread.is_alive(), 120, interval=0)
        assert imported(services) > seen, "the import ended before the condition: make the file bigger"
        record_message(services.engine, number)
        assert thread.is_alive(), "the import ended before every write was tried: make the file bigger"
        seen = imported(services)
    thread.join()
    assert "error" not in outcome, outcome.get("error")
    assert outcome["result"].imported == ROWS
    with services.sessions() as s:
        assert s.scalar(select(func.count()).select_from(InboundMessage)) == WRITES


def test_a_dry_run_takes_no_write_lock_and_changes_nothing(services, big_file):
    thread, outcome = run_in_thread(lambda: run_import(services.sessions, "beneficiaries", big_file, dry_run=True))
    number = 0
    while thread.is_alive() or number == 0:
        record_message(services.engine, number)  # every write gets in at once, the whole run long
        number += 1
    thread.join()
    assert "error" not in outcome, outcome.get("error")
    assert outcome["result"].imported == ROWS
    assert imported(services) == 0
    with services.sessions() as s:
        assert s.scalar(select(func.count()).select_from(InboundMessage)) == number
