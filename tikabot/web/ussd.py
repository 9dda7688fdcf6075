"""POST /ussd: the USSD gateway's callback (CONTRACT section 5, Africa's Talking convention).

The shared secret USSD_TOKEN comes as `?token=` or the `X-USSD-Token` header (403 otherwise).
Whatever goes wrong after that, the caller gets a short END screen, never a server error: a
gateway shows its own cryptic failure to the person holding the phone.
"""
from __future__ import annotations

import hmac
import logging

from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from tikabot.handlers import ussd_africastalking as gateway
from tikabot.i18n.catalog import render
from tikabot.core.phones import mask
from tikabot.runner.guards import Busy
from tikabot.core.ussd import UssdReply
from tikabot.runner.ussd import caller_language, handle_ussd

bp = Blueprint("ussd", __name__)
log = logging.getLogger(__name__)


def _token_ok(expected: str | None) -> bool:
    given = request.args.get("token") or request.headers.get("X-USSD-Token") or ""
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def _reply(reply: UssdReply) -> Response:
    return Response(gateway.render_reply(reply), mimetype="text/plain", content_type=gateway.CONTENT_TYPE)


def _form() -> dict:
    try:
        return request.form.to_dict(flat=True)
    except RequestEntityTooLarge as exc:  # an END screen for the phone, not an HTML 413 page
        raise gateway.BadRequest("request body too large") from exc


@bp.post("/ussd")
def ussd():
    services = current_app.extensions["tikabot"]
    if not _token_ok(services.config.ussd_token):
        return Response("invalid or missing USSD token\n", status=403, mimetype="text/plain")
    try:
        req = gateway.parse_request(_form())
    except gateway.BadRequest as exc:
        log.info("bad USSD request: %s", exc)
        return _reply(UssdReply(render("ussd.bad_request", "en"), end=True))
    try:
        return _reply(handle_ussd(services, req))
    except Busy:
        log.warning("USSD from %s while another message is handled", mask(req.phone))
        return _reply(UssdReply(render("ussd.busy", caller_language(services, req.phone)), end=True))
    except Exception:
        log.exception("USSD session %s from %s failed", req.session_id, mask(req.phone))
        return _reply(UssdReply(render("ussd.error", caller_language(services, req.phone)), end=True))
