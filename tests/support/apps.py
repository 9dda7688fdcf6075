"""The web app a test posts to with Flask's test client: built from the test's config with the
changes a test needs, closed after it (its database engine, its Redis connections)."""
from __future__ import annotations

import dataclasses
from contextlib import contextmanager
from pathlib import Path

from tests.support.credentials import EXOTEL_CALLBACK_TOKEN
from tikabot.config import GatewayPhone

GATEWAY_KEY = "phone-signing-key-ranaghat"
RANAGHAT = GatewayPhone(id="ranaghat", url="http://10.0.0.7:8080", username="sms", password="pw",
                        signing_key=GATEWAY_KEY)


@contextmanager
def built_app(config, **changes):
    from tikabot.app import create_app

    flask_app = create_app(dataclasses.replace(config, **changes) if changes else config)
    flask_app.config["TESTING"] = True
    try:
        yield flask_app
    finally:
        flask_app.extensions["tikabot"].close()


def every_channel(folder: Path) -> dict:
    """The config changes that open every webhook: a gateway phone (ranaghat), Exotel, and a spool."""
    return {"spool_dir": str(Path(folder) / "spool"), "smsgate_phones": (RANAGHAT,),
            "exotel_account_sid": "district", "exotel_callback_token": EXOTEL_CALLBACK_TOKEN}
