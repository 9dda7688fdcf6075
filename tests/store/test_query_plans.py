"""The statements every dose report runs stay on their indexes, however big the outbox grows.

SQLite plans without statistics, and twice picked an index that walks every unsent message in
the outbox (`provider_id IS NULL` through the unique provider_id index, `status = 'pending'`) for
a statement about one appointment. These tests read SQLite's plan for each such statement.
"""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event

from tikabot.core.clock import day_bounds
from tikabot.reminders import schedule
from tikabot.reminders.cancel import AFTER_DOSE, unsent
from tikabot.runner.apply import _UNSENT_REMINDERS
from tikabot.runner.load import _TALLY
from tikabot.runner.tally import _TALLIES
from tikabot.store.db import make_engine
from tikabot.store.models import OutboundMessage


def _plan(database_url: str, statement, **values) -> str:
    """SQLite's plan for `statement` as the code runs it (run once, rolled back, then explained)."""
    engine = make_engine(database_url)
    sent: list = []
    event.listen(engine, "before_cursor_execute", lambda conn, cursor, sql, params, *_: sent.append((sql, params)))
    try:
        with engine.connect() as conn:
            conn.execute(statement, values)
            sql, params = sent[-1]
            plan = " | ".join(row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params))
            conn.rollback()
        return plan
    finally:
        engine.dispose()


@pytest.fixture
def sqlite_url(database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("reads SQLite's query planner")
    return database_url


@pytest.mark.parametrize("dose2", [False, True])
def test_withdrawing_after_a_dose_reads_only_the_persons_messages(sqlite_url, dose2):
    plan = _plan(sqlite_url, AFTER_DOSE[dose2], b_id=1, number=1)
    assert "USING INDEX ix_outbound_messages_beneficiary_id (beneficiary_id=?)" in plan, plan


def test_the_sites_running_count_reads_only_today(sqlite_url):
    start, end = day_bounds(date(2026, 11, 26), "Asia/Kolkata")
    plan = _plan(sqlite_url, _TALLY, site_id=1, start=start, end=end)
    assert "ix_doses_site_day (site_id=? AND administered_at>? AND administered_at<?)" in plan, plan


@pytest.mark.parametrize("condition", [OutboundMessage.beneficiary_id == 7])
def test_cancelling_a_persons_messages_reads_only_theirs(sqlite_url, condition):
    statement = unsent(OutboundMessage.template.in_(schedule.ALL_TEMPLATES), condition)
    plan = _plan(sqlite_url, statement)
    assert "USING INDEX ix_outbound_messages_beneficiary_id (beneficiary_id=?)" in plan, plan


def test_a_rounds_look_for_unsent_reminders_reads_only_its_peoples_messages(sqlite_url):
    plan = _plan(sqlite_url, _UNSENT_REMINDERS, ids=[1, 2, 3])
    assert "USING INDEX ix_outbound_messages_beneficiary_id (beneficiary_id=?)" in plan, plan


def test_a_rounds_running_counts_read_only_today_at_its_sites(sqlite_url):
    start, end = day_bounds(date(2026, 11, 26), "Asia/Kolkata")
    plan = _plan(sqlite_url, _TALLIES, sites=[1, 2, 3], start=start, end=end)
    assert "ix_doses_site_day (site_id=? AND administered_at>? AND administered_at<?)" in plan, plan
