"""Alembic environment: the URL comes from the caller (tikabot init-db) or DATABASE_URL."""
from alembic import context

from tikabot.config import Config
from tikabot.store.db import make_engine
from tikabot.store.models import Base

config = context.config
url = config.get_main_option("sqlalchemy.url") or Config.from_env().database_url


def run_offline() -> None:
    context.configure(url=url, target_metadata=Base.metadata, literal_binds=True,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(url)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
