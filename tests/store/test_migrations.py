from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from tikabot.store.db import make_engine
from tikabot.store.migrate import upgrade
from tikabot.store.models import Base


def test_upgrade_on_an_empty_database_creates_every_table(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    upgrade(engine)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
    assert "alembic_version" in tables


def test_migrations_match_the_models(database_url):
    """A model change without a migration would break `tikabot init-db` on existing sites."""
    engine = make_engine(database_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def test_upgrade_twice_is_harmless(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'twice.db'}")
    upgrade(engine)
    upgrade(engine)
    assert "doses" in inspect(engine).get_table_names()
    engine.dispose()


def test_a_database_with_doses_upgrades_to_the_site_day_index_and_keeps_them(tmp_path):
    """0001 -> head on a database in use: the doses stay, the count's index is there."""
    from datetime import datetime, timezone

    from sqlalchemy import text

    from tikabot.store.models import Beneficiary, Site

    engine = make_engine(f"sqlite:///{tmp_path / 'in-use.db'}")
    upgrade(engine, "0001")
    at = datetime(2025, 6, 12, 5, 0, tzinfo=timezone.utc)
    with engine.begin() as conn:  # the 0001 tables are the models' tables, less the new index
        conn.execute(Site.__table__.insert(), {"code": "KAL", "name": "Kalyani PHC"})
        conn.execute(Beneficiary.__table__.insert(), {"ref": "12345678", "name": "Rahima", "phone": "+919830011111",
                                                      "site_id": 1})
        conn.execute(text("INSERT INTO doses (beneficiary_id, dose_number, vaccine, lot, site_id, administered_at,"
                          " vaccinator_phone, source, voided, sync_state, created_at) VALUES (1, 1, 'COVISHIELD',"
                          " 'L1', 1, :at, '', 'sms', false, 'pending', :at)"),  # 0001's columns: later ones are new
                     {"at": at.replace(tzinfo=None)})
    upgrade(engine)
    indexes = {ix["name"]: ix["column_names"] for ix in inspect(engine).get_indexes("doses")}
    with engine.connect() as conn:
        kept = conn.execute(text("SELECT beneficiary_id, vaccine, lot, needs_reconciliation FROM doses")).all()
        sync = conn.execute(text("SELECT sync_state, sync_attempts, upstream_id FROM doses")).all()
    engine.dispose()
    assert kept == [(1, "COVISHIELD", "L1", 0)]  # a dose from before is not marked for reconciliation
    assert sync == [("pending", 0, None)]  # a dose recorded before sync existed is still to send
    assert indexes["ix_doses_site_day"] == ["site_id", "administered_at", "dose_number", "voided"]
    assert "ix_doses_site_id" not in indexes
