"""Runs one import: every valid row lands, every invalid row goes to FILE.rejects.csv with a reason."""
from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import click
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from tikabot.imports.csvfile import read_rows, write_rejects
from tikabot.imports.fields import RowError
from tikabot.imports.kinds import KINDS, Lookups

PROGRESS_FROM_ROWS = 2000


@dataclass
class ImportResult:
    imported: int
    unchanged: int
    rejected: int
    rejects_path: Path | None

    def summary(self) -> str:
        return f"imported {self.imported}, unchanged {self.unchanged}, rejected {self.rejected}"


def run_import(sessions: sessionmaker[Session], kind: str, path: Path, dry_run: bool = False,
               progress: bool = False) -> ImportResult:
    spec = KINDS[kind]
    header, rows = read_rows(path, spec.columns, spec.required)  # MalformedFile: nothing changes
    imported = unchanged = 0
    rejects: list[tuple[dict, str]] = []
    with sessions() as session:
        session.begin()
        lookups = Lookups(session)
        show = progress and len(rows) > PROGRESS_FROM_ROWS
        with click.progressbar(rows, label=kind, file=None) if show else nullcontext(rows) as bar:
            for line, row in enumerate(bar, start=2):
                try:
                    with session.begin_nested():
                        changed = spec.apply(lookups, row)
                        session.flush()
                except RowError as exc:
                    rejects.append((row, f"line {line}: {exc}"))
                    continue
                except IntegrityError as exc:
                    rejects.append((row, f"line {line}: conflicts with a stored record ({_constraint(exc)})"))
                    lookups.sites.clear()
                    continue
                imported += changed
                unchanged += not changed
        if dry_run:
            session.rollback()
        else:
            session.commit()
    rejects_path = write_rejects(path, header, rejects) if rejects else None
    return ImportResult(imported, unchanged, len(rejects), rejects_path)


def _constraint(exc: IntegrityError) -> str:
    return str(exc.orig).splitlines()[0][:120]

