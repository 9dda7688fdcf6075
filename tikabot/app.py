"""Flask application factory."""
from __future__ import annotations

from flask import Flask

from tikabot.config import Config
from tikabot.services import Services


def create_app(test_config: dict | Config | None = None) -> Flask:
    config = test_config if isinstance(test_config, Config) else Config.from_env().with_overrides(test_config)
    app = Flask(__name__, instance_relative_config=True)
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024  # provider webhooks are small; refuse anything huge
    app.extensions["tikabot"] = Services.build(config)
    _register_blueprints(app)
    return app


def _register_blueprints(app: Flask) -> None:
    from tikabot.web import health, sms, status, ussd

    for module in (health, sms, status, ussd):
        app.register_blueprint(module.bp)
