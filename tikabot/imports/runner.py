"""Runs one import: every valid row lands, every invalid row goes to FILE.rejects.csv with a reason."""
from __future__ import annotations

from collections import Counter
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import click
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from tikabot import clock
from tikabot.config import Config
from tikabot.imports.csvfile import read_rows, write_rejects
from tikabot.imports.fields import RowError
from tikabot.imports.kinds import IMPORTED, KINDS, UNCHANGED, UPDATED, Lookups

PROGRESS_FROM_ROWS = 2000


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
    today in TIKABOT_TZ."""
    spec = KINDS[kind]
    header, rows = read_rows(path, spec.columns, spec.required)  # MalformedFile: nothing changes
    counts: Counter[str] = Counter()
    rejects: list[tuple[dict, str]] = []
    with sessions() as session:
        session.begin()
        lookups = Lookups(session, today=today or _today())
        show = progress and len(rows) > PROGRESS_FROM_ROWS
        with click.progressbar(rows, label=kind, file=None) if show else nullcontext(rows) as bar:
            for line, row in bar:
                try:
                    with session.begin_nested():
                        outcome = spec.apply(lookups, row)
                        session.flush()
                except RowError as exc:
                    rejects.append((row, f"line {line}: {exc}"))
                    continue
                except IntegrityError as exc:
                    rejects.append((row, f"line {line}: conflicts with a stored record ({_constraint(exc)})"))
                    lookups.sites.clear()
                    continue
                counts[outcome] += 1
        if dry_run:
            session.rollback()
        else:
            session.commit()
    rejects_path = write_rejects(path, header, rejects) if rejects else None
    return ImportResult(kind, counts[IMPORTED], counts[UPDATED], counts[UNCHANGED], len(rejects), rejects_path)


def _today() -> date:
    return clock.local_date(clock.now(), Config.from_env(dotenv=False).tz)


def _constraint(exc: IntegrityError) -> str:
    return str(exc.orig).splitlines()[0][:120]
