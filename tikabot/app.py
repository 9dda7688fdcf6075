"""Flask application factory."""
from __future__ import annotations

import logging

from flask import Flask, Response, request
from redis.exceptions import RedisError
from werkzeug.exceptions import HTTPException

from tikabot.config import Config
from tikabot.services import Services

log = logging.getLogger(__name__)


def create_app(test_config: dict | Config | None = None) -> Flask:
    config = test_config if isinstance(test_config, Config) else Config.from_env().with_overrides(test_config)
    app = Flask(__name__, instance_relative_config=True)
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024  # provider webhooks are small; refuse anything huge
    app.extensions["tikabot"] = Services.build(config)
    _register_blueprints(app)
    app.register_error_handler(RedisError, _redis_unavailable)
    app.register_error_handler(HTTPException, _plain_error)
    return app


def _plain_error(exc: HTTPException):
    """Every refused request gets one plain line (providers log the body), never an HTML page."""
    if exc.code is None or exc.code < 400:  # a redirect stays a redirect
        return exc
    return Response(f"{exc.code} {exc.name}\n", status=exc.code, mimetype="text/plain")


def _redis_unavailable(exc: RedisError):
    """Redis down for longer than the client's retries: ask the caller to come back, no trace."""
    log.error("Redis unavailable while handling %s: %s", request.path, exc)
    return Response("Service temporarily unavailable; please retry.\n", status=503,
                    headers={"Retry-After": "5"}, mimetype="text/plain")


def _register_blueprints(app: Flask) -> None:
    from tikabot.web import cdac, exotel, health, kannel, nic, sms, smsgate, status, ussd

    for module in (health, sms, status, ussd, smsgate, exotel, cdac, nic, kannel):
        app.register_blueprint(module.bp)
