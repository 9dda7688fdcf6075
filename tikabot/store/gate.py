"""One writer at a time for a SQLite file, queued in the kernel instead of SQLite's busy loop.

SQLite lets one transaction write at a time; a second writer waits in SQLite's busy handler,
which sleeps 1, 2, 5, 10, 15, 20, 25 ... ms between tries. Under load that sleep, not the work,
sets the pace: two web workers spent most of their time asleep. The runner takes an exclusive
flock on `<database>.writers` around its transaction instead: a waiter is woken the moment the
holder finishes. Writers that do not take the gate (the send worker, imports) are still ordered by
SQLite itself, as before. Other databases (PostgreSQL) need no gate.
"""
from __future__ import annotations

import fcntl
import os
import threading
import time
from contextlib import contextmanager, nullcontext

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

_local = threading.local()  # one descriptor per thread: flock excludes other descriptors, even ours


def _path(engine: Engine) -> str | None:
    url = engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return url.database + ".writers"


def _descriptor(path: str) -> int:
    fds = _local.__dict__.setdefault("fds", {})
    if path not in fds:
        fds[path] = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    return fds[path]


@contextmanager
def _flocked(path: str):
    fd = _descriptor(path)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


@contextmanager
def _flocked_within(path: str, timeout_s: float):
    """The gate, or GateTimeout after timeout_s: tried after POLL_S, then half as long again each
    time up to POLL_MAX_S (a webhook must not wait long, nor spend its CPU asking while a round of
    inbox messages holds the gate for tens of milliseconds)."""
    fd = _descriptor(path)
    deadline = time.monotonic() + timeout_s
    pause = POLL_S
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise GateTimeout(path) from None
            time.sleep(pause)
            pause = min(pause * 1.5, POLL_MAX_S)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


POLL_S = 0.0005
POLL_MAX_S = 0.004


class GateTimeout(TimeoutError):
    """Another writer held the gate for longer than the caller would wait."""


def write_gate(engine: Engine, timeout_s: float | None = None):
    """Context manager: hold it around a write transaction on `engine` (with timeout_s: raise
    GateTimeout rather than wait longer)."""
    path = _path(engine)
    if not path:
        return nullcontext()
    return _flocked(path) if timeout_s is None else _flocked_within(path, timeout_s)


SITE_LOCK_SPACE = 7201  # first key of PostgreSQL's two-key advisory locks: "a site's dose count"


_LOCK_SITES = text("SELECT pg_advisory_xact_lock(:space, site) FROM "
                   "(SELECT unnest(CAST(:sites AS integer[])) AS site ORDER BY site) AS sites")


def lock_sites(session: Session, site_ids) -> None:
    """lock_site for many sites in one statement, in site order (two transactions locking some of
    the same sites never wait on each other in a circle)."""
    sites = sorted(set(site_ids))
    if sites and session.get_bind().dialect.name == "postgresql":
        session.execute(_LOCK_SITES, {"space": SITE_LOCK_SPACE, "sites": sites})


def lock_site(session: Session, site_id: int) -> None:
    """Serialise reports at one site until this transaction ends, so two vaccinators reporting
    at the same moment never read the same running count. SQLite is already serialised by the
    write gate; on PostgreSQL a transaction-scoped advisory lock does it (other sites go on)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:space, :site)"),
                        {"space": SITE_LOCK_SPACE, "site": site_id})
