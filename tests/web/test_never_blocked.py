"""What a webhook or a probe costs when Redis hangs or the database cannot take a write."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace

import pytest
from redis.exceptions import TimeoutError as RedisTimeoutError

from tests.support.hung_redis import hung_redis
from tikabot.app import create_app
from tikabot.services import SOCKET_TIMEOUT, connect_redis
from tikabot.store.db import plain_reads

USSD_TOKEN = "test-ussd-token"


def test_a_hung_redis_fails_a_command_after_the_socket_timeout_without_retrying():
    with hung_redis() as server:
        client = connect_redis(server.url)
        with pytest.raises(RedisTimeoutError):  # a server that never answers: only a timeout ends this
            client.ping()
        timeout = client.connection_pool.connection_kwargs["socket_timeout"]
        client.close()
        assert len(server.connections) == 1  # a timeout is not retried: one try, one socket timeout
    assert timeout == SOCKET_TIMEOUT  # not the 31 s a gunicorn worker was held before


def test_readyz_says_redis_is_not_ready_when_it_hangs(config):
    with hung_redis() as server:
        app = create_app(replace(config, redis_url=server.url))
        response = app.test_client().get("/readyz")
        app.extensions["tikabot"].close()
    assert response.status_code == 503
    assert response.get_json()["checks"] == {"database": "ok", "redis": "error: TimeoutError", "spool": "ok"}


def test_a_ussd_request_while_redis_hangs_gets_a_screen_not_a_hung_worker(config):
    with hung_redis() as server:
        app = create_app(replace(config, redis_url=server.url, ussd_token=USSD_TOKEN))
        form = {"sessionId": "ATUid_hung0001", "serviceCode": "*384*1234#", "phoneNumber": "+919830000001",
                "networkCode": "40410", "text": ""}
        response = app.test_client().post(f"/ussd?token={USSD_TOKEN}", data=form)
        app.extensions["tikabot"].close()
        assert len(server.connections) <= 2  # a command or two, each given up after the socket timeout
    assert response.status_code == 200
    assert response.get_data(as_text=True).startswith("END ")


@contextmanager
def write_lock_held(engine):
    """Another connection holding the database's write lock (SQLite) or the probe's table (PostgreSQL)."""
    raw = engine.raw_connection()
    cursor = raw.cursor()
    sqlite = engine.dialect.name == "sqlite"
    cursor.execute("BEGIN IMMEDIATE" if sqlite else "LOCK TABLE audit_log IN EXCLUSIVE MODE")
    try:
        yield
    finally:
        cursor.execute("ROLLBACK") if sqlite else raw.rollback()
        raw.close()


def test_readyz_is_503_while_the_database_answers_reads_but_takes_no_write(client, services):
    with write_lock_held(services.engine):
        with plain_reads(services.engine) as conn:  # reads still answer
            assert conn.exec_driver_sql("SELECT count(*) FROM sites").scalar() == 0
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["database"].startswith("error")
    assert client.get("/readyz").status_code == 200  # the lock let go: ready again


def test_readyz_leaves_no_row_behind(client, services):
    from sqlalchemy import func, select

    from tikabot.store.models import AuditLog

    assert client.get("/readyz").status_code == 200
    with services.sessions() as s:
        assert s.scalar(select(func.count()).select_from(AuditLog)) == 0
