"""Shared fixtures: a real embedded Redis for the session, a fresh database for every test.

Set TIKABOT_TEST_DATABASE_URL to a PostgreSQL URL to run the whole suite on PostgreSQL.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

pytest.register_assert_rewrite("tests.support")  # helpers' asserts explain themselves, as tests' do

import redis as redis_lib  # noqa: E402
from sqlalchemy import text  # noqa: E402

from tests.support.apps import built_app  # noqa: E402
from tests.support.credentials import (  # noqa: E402
    OTP_SECRET, PUBLIC_BASE_URL, TELEGRAM_WEBHOOK_SECRET, TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, TWILIO_FROM, USSD_TOKEN,
)
from tests.support.live_app import start_live_app  # noqa: E402,F401  (fixture)
from tests.support.network import no_network  # noqa: E402,F401  (fixture)
from tikabot import services as process_services  # noqa: E402
from tikabot.config import Config  # noqa: E402
from tikabot.stack.redis_server import EmbeddedRedis  # noqa: E402
from tikabot.services import Services  # noqa: E402
from tikabot.store.db import make_engine  # noqa: E402
from tikabot.store.migrate import upgrade  # noqa: E402
from tikabot.store.models import Base  # noqa: E402

PG_URL = os.environ.get("TIKABOT_TEST_DATABASE_URL")


@pytest.fixture(autouse=True)
def nothing_leaves_the_machine(no_network):
    """Providers are simulated on loopback: a connection or name lookup for anywhere else fails the test."""
    return no_network


@pytest.fixture(autouse=True)
def _process_services():
    """A test that ran a command or a periodic job leaves no services behind for the next one:
    the process's services (tikabot/services.py of_process) are built from each test's environment."""
    yield
    process_services.release()


@pytest.fixture(scope="session")
def redis_server():
    server = EmbeddedRedis()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server) -> str:
    client = redis_lib.Redis.from_url(redis_server.url)
    client.flushall()
    client.close()
    return redis_server.url


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory) -> str:
    """Migrate once; each test gets a copy (SQLite) or emptied tables (PostgreSQL)."""
    if PG_URL:
        engine = make_engine(PG_URL)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade(engine)
        engine.dispose()
        return PG_URL
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return str(path)


@pytest.fixture
def database_url(migrated_template, tmp_path) -> str:
    if PG_URL:
        engine = make_engine(PG_URL)
        names = ", ".join(t.name for t in Base.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        engine.dispose()
        return PG_URL
    target = tmp_path / "tikabot.db"
    shutil.copyfile(migrated_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def config(database_url, redis_url) -> Config:
    return Config(database_url=database_url, redis_url=redis_url, twilio_account_sid=TEST_ACCOUNT_SID,
                  twilio_auth_token=TEST_AUTH_TOKEN, twilio_from=TWILIO_FROM,
                  public_base_url=PUBLIC_BASE_URL, ussd_token=USSD_TOKEN,
                  otp_secret=OTP_SECRET, telegram_webhook_secret=TELEGRAM_WEBHOOK_SECRET)


@pytest.fixture
def services(config):
    built = Services.build(config)
    yield built
    built.close()


@pytest.fixture
def app(config):
    with built_app(config) as flask_app:
        yield flask_app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def examples_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "examples"
