from dataclasses import replace

from tikabot.app import create_app
from tikabot.redis_server import EmbeddedRedis


def test_healthz_answers_ok(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_readyz_is_ready_with_database_and_redis(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["checks"] == {"database": "ok", "redis": "ok"}


def test_readyz_is_503_when_redis_is_stopped(config):
    server = EmbeddedRedis()
    url = server.start()
    app = create_app(replace(config, redis_url=url))
    assert app.test_client().get("/readyz").status_code == 200
    server.stop()
    response = app.test_client().get("/readyz")
    app.extensions["tikabot"].close()
    assert response.status_code == 503
    assert response.get_json()["checks"]["redis"].startswith("error")
    assert response.get_json()["checks"]["database"] == "ok"


def test_readyz_is_503_when_the_database_is_unreachable(config, tmp_path):
    app = create_app(replace(config, database_url=f"sqlite:///{tmp_path}"))  # a folder, not a database
    response = app.test_client().get("/readyz")
    app.extensions["tikabot"].close()
    assert response.status_code == 503
    assert response.get_json()["checks"]["database"].startswith("error")


def test_metrics_are_prometheus_text(client):
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert b"# TYPE" in response.data
