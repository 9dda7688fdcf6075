"""C-DAC Mobile Seva's pull SMS (CONTRACT section 5): MSDG calls the department's registered URL
with mobileNumber, timeStamp, operatorName, areaCode and message, by GET or POST.

MSDG signs nothing: a request is taken only from a configured source address and with the URL's
secret token (handlers/cdac.py); otherwise 403 and nothing kept. The answer is an empty text/plain:
C-DAC's documents say nothing of using it as a reply, and a reply must go under a DLT template
anyway, so the reply goes out through the outbox by push on C-DAC.
"""
from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, request

from tikabot.core.phones import mask
from tikabot.handlers import cdac
from tikabot.inbox.accept import Unavailable, accept
from tikabot.inbox.storable import Unstorable

bp = Blueprint("cdac", __name__)
log = logging.getLogger(__name__)


def _text(message: str, status: int) -> Response:
    return Response(message + ("\n" if message else ""), status=status, mimetype="text/plain")


@bp.route("/channels/cdac/inbound", methods=["GET", "POST"])
def inbound():
    services = current_app.extensions["tikabot"]
    config = services.config
    if not config.cdac_pull_token:
        return _text("C-DAC pull SMS is not set up", 404)
    if not cdac.source_allowed(config, request.remote_addr, request.headers.get("X-Forwarded-For")):
        log.warning("C-DAC pull request refused: source address not allowed")
        return _text("source address not allowed", 403)
    if not cdac.token_ok(config, request.args):
        return _text("invalid or missing token", 403)
    params = {k: v for k, v in {**request.args.to_dict(flat=True), **request.form.to_dict(flat=True)}.items()
              if k != "token"}
    try:
        message = cdac.to_message(params, config.cdac_keyword)
    except cdac.BadRequest as exc:
        return _text(str(exc), 400)
    try:
        accept(services, message)
    except Unstorable as exc:
        return _text(str(exc), 400)
    except Unavailable:
        log.warning("message from %s via C-DAC not kept", mask(message.sender))
        return _text("busy, retry", 503)
    return _text("", 200)
