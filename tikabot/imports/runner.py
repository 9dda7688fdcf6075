"""Runs one import: every valid row lands, every invalid row goes to FILE.rejects.csv with a reason.

It never blocks the webhooks: rows are committed in short chunks, and a dry run writes only to a
private copy of the database."""
from __future__ import annotations

import sqlite3
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import click
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from tikabot.core import clock
from tikabot.config import Config
from tikabot.imports.csvfile import read_rows, write_rejects
from tikabot.imports.fields import RowError
from tikabot.imports.kinds import IMPORTED, KINDS, UNCHANGED, UPDATED, Lookups
from tikabot.store import phases
from tikabot.store.db import make_engine

PROGRESS_FROM_ROWS = 2000
CHUNK_SECONDS = 0.25  # the longest the import holds the database's write lock at a time
PAUSE_SECONDS = 0.1  # SQLite: at least the busy handler's longest sleep (see _Chunks)


@dataclass
class ImportResult:
    kind: str
    imported: int
    updated: int
    unchanged: int
    rejected: int
    rejects_path: Path | None

    def summary(self) -> str:
        return (f"{self.kind}: imported {self.imported}, updated {self.updated}, unchanged {self.unchanged}, "
                f"rejected {self.rejected}")


def run_import(sessions: sessionmaker[Session], kind: str, path: Path, dry_run: bool = False,
               progress: bool = False, today: date | None = None) -> ImportResult:
    """today: the import day that relative dates (`today`, `tomorrow`) count from; by default
    today in TIKABOT_TZ.

    Rows are committed in chunks of about CHUNK_SECONDS, so webhooks and workers write between
    them; an import stopped halfway keeps the chunks committed, and importing the file again
    completes it (a re-import changes nothing). A dry run works on a private copy (dry_run_copy)
    and takes no write lock on the database at all."""
    spec = KINDS[kind]
    header, rows = read_rows(path, spec.columns, spec.required)  # MalformedFile: nothing changes
    counts: Counter[str] = Counter()
    rejects: list[tuple[dict, str]] = []
    with dry_run_copy(sessions) if dry_run else nullcontext(sessions) as target, target() as session:
        session.expire_on_commit = False  # the site cache outlives each chunk's commit
        phases.open_unit(session)  # each chunk's commit queues its booking SMS (store/phases.py)
        lookups = Lookups(session, today=today or _today())
        show = progress and len(rows) > PROGRESS_FROM_ROWS
        chunk = _Chunks(session, chunked=not dry_run)
        with click.progressbar(rows, label=kind, file=None) if show else nullcontext(rows) as bar:
            for line, row in bar:
                outcome = _apply_row(spec, lookups, line, row, rejects)
                if outcome is not None:
                    counts[outcome] += 1
                chunk.after_row()
        if dry_run:
            session.rollback()
        else:
            phases.commit(session)
        phases.close_unit(session)
    rejects_path = write_rejects(path, header, rejects) if rejects else None
    return ImportResult(kind, counts[IMPORTED], counts[UPDATED], counts[UNCHANGED], len(rejects), rejects_path)


def _apply_row(spec, lookups: Lookups, line: int, row: dict, rejects: list) -> str | None:
    """The row's outcome, or None when it is rejected (its reason added to rejects)."""
    try:
        with lookups.session.begin_nested():
            outcome = spec.apply(lookups, row)
            lookups.session.flush()
    except RowError as exc:
        rejects.append((row, f"line {line}: {exc}"))
        return None
    except IntegrityError as exc:
        rejects.append((row, f"line {line}: conflicts with a stored record ({_constraint(exc)})"))
        lookups.sites.clear()
        return None
    return outcome


class _Chunks:
    """Commits the import's transaction once it has held the write lock for CHUNK_SECONDS, then, on
    SQLite, lets go for PAUSE_SECONDS before the next row takes the lock again.

    A writer that finds SQLite locked sleeps in its busy handler (1, 2, 5 ... 100 ms) and tries
    again; a pause at least as long as its longest sleep cannot fall between two of its tries, so
    every waiting writer gets the lock within about one chunk and a pause (~0.45 s), well inside
    the second a webhook may wait. PostgreSQL locks rows, not the database: no pause there."""

    def __init__(self, session: Session, chunked: bool):
        self.session, self.chunked = session, chunked
        self.pause = PAUSE_SECONDS if session.get_bind().dialect.name == "sqlite" else 0.0
        self.started = time.monotonic()

    def after_row(self) -> None:
        if self.chunked and time.monotonic() - self.started >= CHUNK_SECONDS:
            phases.commit(self.session)
            time.sleep(self.pause)
            self.started = time.monotonic()


@contextmanager
def dry_run_copy(sessions: sessionmaker[Session]) -> Iterator[sessionmaker[Session]]:
    """Sessions on a private copy of a SQLite database file, for a dry run to write and roll back
    without taking the real file's write lock. The copy is read with SQLite's backup API, which in
    WAL mode is a reader like any other: it never blocks a writer. Other databases (PostgreSQL:
    row locks only, on the rows the dry run touches, all rolled back) are used as they are."""
    engine = sessions.kw["bind"]
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield sessions
        return
    with tempfile.TemporaryDirectory(prefix="tikabot-dry-run-") as folder:
        copy = Path(folder) / "copy.db"
        source = engine.raw_connection()
        try:
            target = sqlite3.connect(copy)
            source.driver_connection.backup(target)
            target.close()
        finally:
            source.close()
        copied = make_engine(f"sqlite:///{copy}")
        try:
            yield sessionmaker(copied, expire_on_commit=False, info=dict(sessions.kw.get("info") or {}))
        finally:
            copied.dispose()


def _today() -> date:
    return clock.local_date(clock.now(), Config.from_env(dotenv=False).tz)


def _constraint(exc: IntegrityError) -> str:
    return str(exc.orig).splitlines()[0][:120]
