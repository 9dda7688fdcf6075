"""Liveness, readiness and Prometheus metrics."""
from __future__ import annotations

import os

from flask import Blueprint, Response, current_app, jsonify
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from tikabot.core import clock
from tikabot.inbox.accept import inbox_of

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    services = current_app.extensions["tikabot"]
    checks = {"database": _check_database(services), "redis": _check_redis(services), "spool": _check_spool(services)}
    ready = all(v == "ok" for v in checks.values())
    return jsonify(status="ready" if ready else "unavailable", checks=checks), 200 if ready else 503


@bp.get("/metrics")
def metrics():
    return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)


PROBE_WAIT_MS = 1000  # how long readiness waits for the database's write lock or a row lock
_PROBE_WRITE = ("INSERT INTO audit_log (at, actor, action, detail) "
                "VALUES (CURRENT_TIMESTAMP, 'readyz', 'readyz.probe', '{}')")


def _check_database(services) -> str:
    """The database takes a write now: one INSERT in a transaction that is rolled back, waiting at
    most PROBE_WAIT_MS for the lock. A database that answers reads but cannot write (a SQLite
    file held locked, a read-only file or disk, a PostgreSQL standby) is not ready: every message
    must be recorded."""
    try:
        raw = services.engine.raw_connection()  # DBAPI level: no BEGIN IMMEDIATE with a 30 s wait first
    except Exception as exc:  # any driver error means not ready
        return f"error: {type(exc).__name__}"
    try:
        cursor = raw.cursor()
        if services.engine.dialect.name == "sqlite":
            _sqlite_write_rolled_back(cursor)
        else:
            cursor.execute(f"SET LOCAL lock_timeout = {PROBE_WAIT_MS}")
            cursor.execute(f"SET LOCAL statement_timeout = {2 * PROBE_WAIT_MS}")
            cursor.execute(_PROBE_WRITE)
            raw.rollback()
        return "ok"
    except Exception as exc:
        return f"error: {type(exc).__name__}"
    finally:
        raw.close()  # back to the pool, rolled back


def _sqlite_write_rolled_back(cursor) -> None:
    (wait,) = cursor.execute("PRAGMA busy_timeout").fetchone()
    cursor.execute(f"PRAGMA busy_timeout={PROBE_WAIT_MS}")
    try:
        cursor.execute("BEGIN IMMEDIATE")
        try:
            cursor.execute(_PROBE_WRITE)
        finally:
            cursor.execute("ROLLBACK")
    finally:
        cursor.execute(f"PRAGMA busy_timeout={wait}")


SPOOL_STALE_S = 60.0  # TIKABOT_SPOOL_STALE_S: a spooled message waiting longer means the spool is not draining


def _check_spool(services) -> str:
    """The spool drains: its oldest message has not waited longer than TIKABOT_SPOOL_STALE_S and
    the drain is not failing again and again. A spool that stopped draining answers 2xx to every
    message and processes none of them: that must not look ready."""
    stale_s = float(os.environ.get("TIKABOT_SPOOL_STALE_S") or SPOOL_STALE_S)
    try:
        problem = inbox_of(services).not_draining(clock.now(), stale_s)
    except Exception as exc:
        return f"error: {type(exc).__name__}"
    return f"error: {problem}" if problem else "ok"


def _check_redis(services) -> str:
    if services.redis is None:
        return "error: REDIS_URL not set"
    # a client of its own without retries: readiness must answer now, not after the retry budget,
    # and a hung Redis (accepts, never answers) must not hold the probe either
    probe = Redis.from_url(services.config.redis_url, retry=Retry(NoBackoff(), 0), socket_connect_timeout=2,
                           socket_timeout=2)
    try:
        probe.ping()
        return "ok"
    except Exception as exc:
        return f"error: {type(exc).__name__}"
    finally:
        probe.close()
