"""POST /sms/inbound: Twilio's inbound SMS webhook (CONTRACT section 5)."""
from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, request

from tikabot.handlers import twilio_inbound
from tikabot.inbox.accept import Unavailable, accept
from tikabot.inbox.storable import Unstorable
from tikabot.core.phones import mask

bp = Blueprint("sms", __name__)
log = logging.getLogger(__name__)
TWIML = "application/xml"


def _text(message: str, status: int) -> Response:
    return Response(message + "\n", status=status, mimetype="text/plain")


@bp.post("/sms/inbound")
def inbound():
    services = current_app.extensions["tikabot"]
    config = services.config
    params = request.form.to_dict(flat=True)
    url = twilio_inbound.public_url(config.public_base_url, request.path, request.query_string.decode("latin-1"),
                                    "" if config.public_base_url else request.url)  # request.url costs: only when used
    if not twilio_inbound.signature_ok(config.twilio_auth_token, url, request.form,
                                       request.headers.get("X-Twilio-Signature")):
        return _text("invalid or missing X-Twilio-Signature", 403)
    try:
        message = twilio_inbound.to_message(params)
    except twilio_inbound.BadRequest as exc:
        return _text(str(exc), 400)
    try:
        reply = accept(services, message)
    except Unstorable as exc:
        return _text(str(exc), 400)
    except Unavailable:
        log.warning("message from %s not kept; Twilio will retry", mask(message.sender))
        return _text("busy, retry", 503)
    return Response(twilio_inbound.twiml(reply), mimetype=TWIML)


@bp.errorhandler(413)
def too_large(_error):
    return _text("request too large", 413)
