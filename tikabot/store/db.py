"""Engine and session factory. SQLite gets WAL and a busy timeout so web and worker share it."""
from __future__ import annotations

from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from tikabot.store import phases


def make_engine(url: str, wait_s: float = 30.0) -> Engine:
    """An engine whose statements wait at most `wait_s` for a lock (SQLite's busy timeout,
    PostgreSQL's lock and statement timeouts when shorter than the default 30 s)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": wait_s})
        event.listen(engine, "connect", partial(_sqlite_pragmas, busy_ms=int(wait_s * 1000)))
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if wait_s >= 30.0:
        return create_engine(url, pool_pre_ping=True)
    ms = int(wait_s * 1000)
    return create_engine(url, connect_args={"connect_timeout": max(1, int(wait_s)),
                                            "options": f"-c lock_timeout={ms} -c statement_timeout={ms}"})


def _sqlite_pragmas(dbapi_conn, _record, busy_ms: int = 30000) -> None:
    # Let SQLAlchemy emit BEGIN itself (pysqlite's own handling breaks SAVEPOINT).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout={busy_ms}")  # first: setting WAL waits on a locked file too
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _sqlite_begin(conn) -> None:
    # IMMEDIATE takes the write lock up front: two writers wait for each other (busy_timeout)
    # instead of one failing with "database is locked" when it upgrades a read lock.
    # A connection opened with execution_options(read_only=True) only reads (the inbound
    # runner's facts, each one statement): no BEGIN, each SELECT reads the latest commit on its
    # own and never queues behind writers.
    if not conn.get_execution_options().get("read_only"):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def plain_reads(engine: Engine) -> Iterator[Connection]:
    """A connection for a few independent SELECTs outside any transaction: each reads the latest
    commit, no write lock is taken, and no BEGIN or ROLLBACK goes to the database (on PostgreSQL
    each would be a round trip of its own)."""
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            yield conn.execution_options(read_only=True)  # _sqlite_begin emits no BEGIN for it
        else:
            yield conn.execution_options(isolation_level="AUTOCOMMIT")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error. Its named hooks run in one
    place (store/phases.py): pre-commit ones just before the COMMIT, inside the transaction;
    post-commit ones after it, never after a rollback."""
    with factory() as session:
        unit = phases.open_unit(session)
        try:
            with session.begin():
                yield session
                unit.before_commit()
        finally:
            phases.close_unit(session)
        unit.after_commit(session.info.get(phases.TRANSPORT_KEY))
