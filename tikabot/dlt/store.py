"""The approved DLT templates in the database, and the lookup the send path makes.

`save` replaces what an import brings, all in the caller's transaction. `DltBook` keeps the
approved records of a worker process in memory for a short while (re-read every `ttl_s`, so an
import takes effect without a restart) and finds the record a message body matches.
"""
from __future__ import annotations

import threading
import time
from datetime import datetime

from sqlalchemy import delete, select, tuple_
from sqlalchemy.orm import Session

from tikabot.dlt.csvfile import Approved
from tikabot.dlt.pattern import matches
from tikabot.dlt.records import SMS_TYPES, DltRecord
from tikabot.store.models import DltTemplate


def save(session: Session, approved: list[Approved], now: datetime) -> int:
    """Store the approved ids, replacing earlier ones for the same templates (or the same ids)."""
    if not approved:
        return 0
    keys = [(a.record.template, a.record.language, a.record.form) for a in approved]
    session.execute(delete(DltTemplate).where(
        tuple_(DltTemplate.template, DltTemplate.language, DltTemplate.form).in_(keys)))
    session.execute(delete(DltTemplate).where(DltTemplate.template_id.in_([a.record.template_id for a in approved])))
    session.add_all(DltTemplate(template=a.record.template, language=a.record.language, form=a.record.form,
                                text=a.text, template_id=a.record.template_id, entity_id=a.record.entity_id,
                                header=a.record.header, category=a.record.category,
                                content_type=a.record.content_type, approved_at=now) for a in approved)
    return len(approved)


def load(session: Session) -> dict[tuple[str, str], list[tuple[str, DltRecord]]]:
    """(template, language) -> [(registered text, record)], every approved one."""
    book: dict[tuple[str, str], list[tuple[str, DltRecord]]] = {}
    for row in session.scalars(select(DltTemplate).order_by(DltTemplate.template, DltTemplate.language,
                                                             DltTemplate.form)):
        record = DltRecord(entity_id=row.entity_id, template_id=row.template_id, header=row.header,
                           sms_type=SMS_TYPES.get(row.category, "transactional"), category=row.category,
                           content_type=row.content_type, template=row.template, language=row.language,
                           form=row.form)
        book.setdefault((row.template, row.language), []).append((row.text, record))
    return book


def approved_ids(session: Session) -> dict[tuple[str, str, int], tuple[str, str]]:
    """(template, language, form) -> (template id, the {#var#} text it was approved for)."""
    return {(r.template, r.language, r.form): (r.template_id, r.text) for r in session.scalars(select(DltTemplate))}


class DltBook:
    """The approved records, read from the database at most every ttl_s seconds."""

    def __init__(self, sessions, ttl_s: float = 30.0):
        self.sessions, self.ttl_s = sessions, ttl_s
        self._book: dict | None = None
        self._read_at = 0.0
        self._lock = threading.Lock()

    def _current(self) -> dict:
        with self._lock:
            if self._book is None or time.monotonic() - self._read_at > self.ttl_s:
                with self.sessions() as session:
                    self._book = load(session)
                self._read_at = time.monotonic()
            return self._book

    def forget(self) -> None:
        with self._lock:
            self._book = None

    def find(self, template: str, language: str, body: str) -> DltRecord | None:
        """The approved record whose registered text this body matches exactly, if any."""
        for text, record in self._current().get((template, language), ()):
            if matches(text, body):
                return record
        return None
