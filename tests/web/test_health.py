import socket
from dataclasses import replace

from sqlalchemy import text

from tests.support.signing import twilio_post
from tikabot.app import create_app
from tikabot.stack.redis_server import EmbeddedRedis


def test_healthz_answers_ok(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_readyz_is_ready_with_database_and_redis(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["checks"] == {"database": "ok", "redis": "ok", "spool": "ok"}


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


def test_an_inbound_sms_while_redis_is_down_is_kept_and_answered(config):
    """Accepting needs only the database: the message waits in the inbox until Redis is back."""
    # A port held bound but not listening: every connection is refused, and no other Redis on the
    # machine can take it over between the stop and the request (a freed port could be reused).
    held = socket.socket()
    held.bind(("127.0.0.1", 0))
    app = create_app(replace(config, redis_url=f"redis://127.0.0.1:{held.getsockname()[1]}/0"))
    params = {"MessageSid": "SM" + "a" * 32, "AccountSid": config.twilio_account_sid, "From": "+919830012345",
              "To": "+15005550006", "Body": "HELP", "NumMedia": "0"}
    response = twilio_post(app.test_client(), "/sms/inbound", params, config.twilio_auth_token, config.public_base_url)
    services = app.extensions["tikabot"]
    with services.engine.connect() as conn:
        kept = conn.execute(text("SELECT status FROM inbound_messages WHERE provider_id = :sid"),
                            {"sid": params["MessageSid"]}).scalars().all()
    services.close()
    held.close()
    assert response.status_code == 200
    assert kept == ["new"]
