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
                     {"at": at.strftime("%Y-%m-%d %H:%M:%S.%f")})  # SQLAlchemy's SQLite text; sqlite3's datetime adapter is deprecated since 3.12
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


def test_0015_replaces_each_security_code_by_its_hash_and_the_code_still_verifies(tmp_path, monkeypatch):
    """A database in use, its codes already sent in booking SMS: after the upgrade no code is readable
    and each still verifies (hashed with the OTP_SECRET in the environment)."""
    from sqlalchemy import text

    from tikabot.codes.appointment import code_hash, matches
    from tikabot.store.models import Beneficiary, Site

    monkeypatch.setenv("OTP_SECRET", "district-secret")
    engine = make_engine(f"sqlite:///{tmp_path / 'codes.db'}")
    upgrade(engine, "0014")
    with engine.begin() as conn:
        conn.execute(Site.__table__.insert(), {"code": "KAL", "name": "Kalyani PHC"})
        for n, phone in enumerate(("+919830011111", "+919830022222"), start=1):
            conn.execute(Beneficiary.__table__.insert(), {"ref": f"1234567{n}", "name": "P", "phone": phone,
                                                          "site_id": 1})
            conn.execute(text("INSERT INTO appointments (beneficiary_id, site_id, dose_number, date, slot,"
                              " security_code, status, updated_at) VALUES (:b, 1, 1, :d, '09:00-11:00', :code,"
                              " 'booked', :d)"), {"b": n, "d": "2025-06-12", "code": f"{n}{n}{n}{n}"})
    upgrade(engine)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT beneficiary_id, security_code_hash FROM appointments ORDER BY id")).all()
    columns = {c["name"] for c in inspect(engine).get_columns("appointments")}
    engine.dispose()
    assert "security_code" not in columns
    assert [h for _, h in stored] == [code_hash("district-secret", 1, "1111"), code_hash("district-secret", 2, "2222")]
    assert matches("district-secret", 2, "2222", [stored[1][1]]) and not matches("district-secret", 2, "1111",
                                                                                  [h for _, h in stored])
