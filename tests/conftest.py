"""Shared fixtures: a real embedded Redis for the session, a fresh database for every test.

Set TIKABOT_TEST_DATABASE_URL to a PostgreSQL URL to run the whole suite on PostgreSQL.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import redis as redis_lib
from sqlalchemy import text

from tikabot import services as process_services
from tikabot.config import Config
from tikabot.stack.redis_server import EmbeddedRedis
from tikabot.services import Services
from tikabot.store.db import make_engine
from tikabot.store.migrate import upgrade
from tikabot.store.models import Base

PG_URL = os.environ.get("TIKABOT_TEST_DATABASE_URL")
TEST_AUTH_TOKEN = "test-auth-token-0123456789abcdef"
TEST_ACCOUNT_SID = "AC" + "1" * 32
PUBLIC_BASE_URL = "https://tikabot.example.org"


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
                  twilio_auth_token=TEST_AUTH_TOKEN, twilio_from="+15005550006",
                  public_base_url=PUBLIC_BASE_URL, ussd_token="test-ussd-token",
                  otp_secret="test-otp-secret", telegram_webhook_secret="test-telegram-secret")


@pytest.fixture
def services(config):
    built = Services.build(config)
    yield built
    built.close()


@pytest.fixture
def app(config):
    from tikabot.app import create_app

    flask_app = create_app(config)
    flask_app.config["TESTING"] = True
    yield flask_app
    flask_app.extensions["tikabot"].close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def examples_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "examples"
