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
