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

A line the database can never take (the drain's `insert` raises one of the `refused` errors for
it alone) is set aside: appended, with the reason, to `inbox.spool.dead` beside the spool, and the
drain goes on with the lines behind it. One poison line must not stop every later message from
every channel. Anything else `insert` raises (the database is still down) keeps the files for the
next try, as before.
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)
NAME, DRAINING, DRAIN_LOCK, DEAD = "inbox.spool", "inbox.spool.draining", "inbox.spool.lock", "inbox.spool.dead"
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
        self.dead = self.folder / DEAD

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

    def drain(self, insert: Callable[[list[dict]], None], refused: Callable[[BaseException], bool] = lambda _: False) -> int:
        """Insert what the spool holds, in order, CHUNK lines per call of `insert` (which must skip
        provider ids already kept). A chunk that `insert` refuses (`refused(exc)`) is tried line by
        line and the lines refused alone are set aside (set_aside). Returns how many lines went in;
        raises anything else `insert` raises (the database still cannot take them: the files stay
        for the next try)."""
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
                lines = self.draining.read_bytes().splitlines()
                rows = [(line, row) for line, row in zip(lines, map(_parsed, lines)) if row]
                for start in range(0, len(rows), CHUNK):
                    self._insert_chunk(insert, refused, rows[start:start + CHUNK])
                total += len(rows)
                self.draining.unlink()
                log.warning("spool: %d inbound messages moved into the inbox", len(rows))
            return total
        finally:
            os.close(lock)


    def _insert_chunk(self, insert, refused, chunk: list[tuple[bytes, dict]]) -> None:
        try:
            insert([row for _, row in chunk])
            return
        except Exception as exc:
            if not refused(exc):
                raise
        for line, row in chunk:  # one of them is poison: find it, keep the others
            try:
                insert([row])
            except Exception as exc:
                if not refused(exc):
                    raise
                self.set_aside(line, exc)

    def set_aside(self, line: bytes, exc: BaseException) -> None:
        """Append a line the database can never take to the dead-letter file, with the reason
        (fsync'd: the message was answered 2xx and must stay somewhere an operator can read)."""
        kept = line.decode("utf-8", "replace")
        if kept in self._set_aside_lines():  # a drain cut short after setting it aside, done again
            return
        entry = {"reason": f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:300],
                 "set_aside_at": datetime.now().astimezone().isoformat(), "line": kept}
        fd = os.open(self.dead, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            os.write(fd, (json.dumps(entry) + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        log.error("spool: a message the database cannot store was set aside in %s (%s)", DEAD, entry["reason"])

    def _set_aside_lines(self) -> set[str]:
        try:
            entries = self.dead.read_bytes().splitlines()
        except FileNotFoundError:
            return set()
        lines = set()
        for entry in entries:
            try:
                lines.add(json.loads(entry)["line"])
            except (ValueError, KeyError, TypeError):  # torn by a crash mid-write
                continue
        return lines

    def set_aside_count(self) -> int:
        """How many lines were set aside so far (the dead-letter file's lines)."""
        try:
            return self.dead.read_bytes().count(b"\n")
        except FileNotFoundError:
            return 0

    def oldest_age_s(self, now: datetime) -> float | None:
        """Seconds since the oldest message still waiting in the spool was received; None when empty."""
        for path in (self.draining, self.path):
            try:
                with open(path, "rb") as f:
                    for line in f:
                        row = _parsed(line)
                        if row is not None:
                            return _age_s(now, row["received_at"])
            except FileNotFoundError:
                continue
        return None


def _age_s(now: datetime, then: datetime) -> float:
    if then.tzinfo is None:
        then = then.replace(tzinfo=timezone.utc)
    return max(0.0, (now - then).total_seconds())


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
