"""The statements every dose report runs stay on their indexes, however big the outbox grows.

SQLite plans without statistics, and twice picked an index that walks every unsent message in
the outbox (`provider_id IS NULL` through the unique provider_id index, `status = 'pending'`) for
a statement about one appointment. These tests read SQLite's plan for each such statement.
"""
from __future__ import annotations

import pytest
from sqlalchemy.dialects import sqlite

from tikabot.reminders import schedule
from tikabot.reminders.cancel import unsent
from tikabot.runner.apply import _WITHDRAW_REMINDERS
from tikabot.runner.load import _TALLY
from tikabot.store.db import make_engine
from tikabot.store.models import OutboundMessage


def _plan(database_url: str, statement, **values) -> str:
    compiled = statement.compile(dialect=sqlite.dialect(), compile_kwargs={"render_postcompile": True})
    bound = compiled.construct_params(values)
    params = tuple(bound[name] for name in compiled.positiontup)
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return " | ".join(row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled), params))
    finally:
        engine.dispose()


@pytest.fixture
def sqlite_url(database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("reads SQLite's query planner")
    return database_url


def test_withdrawing_a_doses_reminders_reads_only_its_appointment(sqlite_url):
    plan = _plan(sqlite_url, _WITHDRAW_REMINDERS, b_id=1, number=1)
    assert "USING INDEX ix_outbound_messages_appointment_id (appointment_id=?)" in plan, plan


def test_the_sites_running_count_reads_only_today(sqlite_url):
    plan = _plan(sqlite_url, _TALLY, site_id=1, start="2026-11-25 18:30:00", end="2026-11-26 18:30:00")
    assert "ix_doses_site_day (site_id=? AND administered_at>? AND administered_at<?)" in plan, plan


@pytest.mark.parametrize("condition", [OutboundMessage.beneficiary_id == 7])
def test_cancelling_a_persons_messages_reads_only_theirs(sqlite_url, condition):
    statement = unsent(OutboundMessage.template.in_(schedule.ALL_TEMPLATES), condition)
    plan = _plan(sqlite_url, statement)
    assert "USING INDEX ix_outbound_messages_beneficiary_id (beneficiary_id=?)" in plan, plan
