"""The spool: where a web process keeps inbound messages the database cannot take at once.

One file, `inbox.spool`, one JSON line per message, appended under an exclusive flock and fsync'd
before the webhook answers 2xx, so a message the provider was told we have survives a crash of
the process or the machine. The drainer renames the file to `inbox.spool.draining` (under the
same lock, so no append is split between the two), inserts its lines into the inbox in order
(a provider id already there is skipped: a drain cut short is simply done again), then deletes
it. While either file holds messages, new messages are spooled too: they stay behind the ones
that came before them.

An appender that opened the file just before the drainer renamed it finds, once it holds the
lock, that its descriptor no longer names `inbox.spool`, and opens the new one.
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
from datetime import datetime
from pathlib import Path
from typing import Callable

from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)
NAME, DRAINING, DRAIN_LOCK = "inbox.spool", "inbox.spool.draining", "inbox.spool.lock"
CHUNK = 500  # lines inserted per transaction while draining


def spool_folder(config) -> Path | None:
    """TIKABOT_SPOOL_DIR, "off" for none; unset, a `spool` folder beside a SQLite database file,
    else instance/spool (the folder `tikabot up` keeps its state in)."""
    chosen = config.spool_dir
    if chosen:
        return None if chosen.lower() == "off" else Path(chosen)
    url = make_url(config.database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).resolve().parent / "spool"
    return Path("instance") / "spool"


def record(provider_id: str, channel: str, sender: str, text: str, via: str, received_at: datetime) -> dict:
    return {"provider_id": provider_id, "channel": channel, "sender": sender, "body": text, "via": via or None,
            "received_at": received_at.isoformat()}


def _parsed(line: bytes) -> dict | None:
    try:
        row = json.loads(line)
        row["received_at"] = datetime.fromisoformat(row["received_at"])
        return row
    except (ValueError, KeyError, TypeError):  # a line torn by a crash mid-write: never answered 2xx
        return None


class Spool:
    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.path = self.folder / NAME
        self.draining = self.folder / DRAINING

    def backlog(self) -> bool:
        """Messages are waiting in the spool (new ones must queue behind them)."""
        try:
            if self.path.stat().st_size > 0:
                return True
        except FileNotFoundError:
            pass
        return self.draining.exists()

    def append(self, row: dict) -> None:
        """Durably append one message; raises OSError when the disk will not take it."""
        line = (json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        self.folder.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                if os.fstat(fd).st_ino != _inode(self.path):  # renamed for draining meanwhile
                    continue
                os.write(fd, line)
                os.fsync(fd)
                return
            finally:
                os.close(fd)  # closing releases the lock

    def _take(self) -> bool:
        """Rename the spool for draining (unless a draining file is still there)."""
        if self.draining.exists():
            return True
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if os.fstat(fd).st_size == 0:
                return False
            os.rename(self.path, self.draining)
            _fsync_dir(self.folder)
            return True
        finally:
            os.close(fd)

    def drain(self, insert: Callable[[list[dict]], None]) -> int:
        """Insert what the spool holds, in order, CHUNK lines per call of `insert` (which must skip
        provider ids already kept). Returns how many lines went in; raises what `insert` raises
        (the database still cannot take them: the files stay for the next try)."""
        if not self.folder.exists():
            return 0
        lock = os.open(self.folder / DRAIN_LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # another process is draining
                return 0
            total = 0
            while self._take():
                rows = [row for row in map(_parsed, self.draining.read_bytes().splitlines()) if row]
                for start in range(0, len(rows), CHUNK):
                    insert(rows[start:start + CHUNK])
                total += len(rows)
                self.draining.unlink()
                log.warning("spool: %d inbound messages moved into the inbox", len(rows))
            return total
        finally:
            os.close(lock)


def _inode(path: Path) -> int | None:
    try:
        return path.stat().st_ino
    except FileNotFoundError:
        return None


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
