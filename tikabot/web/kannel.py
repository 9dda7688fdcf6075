"""Kannel's requests to us: SMS arriving through the district's sms-service, and delivery reports to
the dlr-url of each message (handlers/kannel.py).

Kannel signs nothing: both URLs carry KANNEL_CALLBACK_TOKEN, compared in constant time. Wrong or
missing token: 403, nothing recorded. The inbound answer is an empty text with 200 (the
sms-service has `max-messages = 0`, so Kannel sends nothing itself); the reply goes out through
the outbox like every reply. 503 makes smsbox log a failed fetch: keep `http-request-retry` in
smsbox's group so it asks again.
"""
from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, request

from tikabot.core.phones import mask
from tikabot.handlers import kannel
from tikabot.inbox.accept import Unavailable, accept
from tikabot.inbox.storable import Unstorable
from tikabot.web import reports

bp = Blueprint("kannel", __name__)
log = logging.getLogger(__name__)


def _text(message: str, status: int) -> Response:
    return Response(message + ("\n" if message else ""), status=status, mimetype="text/plain")


@bp.route("/channels/kannel/inbound", methods=["GET", "POST"])
def inbound():
    services = current_app.extensions["tikabot"]
    if not kannel.authorized(services.config, kannel.token_of(request.query_string)):
        return _text("invalid or missing token", 403)
    try:
        message = kannel.to_message(request.query_string)
    except kannel.BadRequest as exc:
        return _text(str(exc), 400)
    try:
        accept(services, message)
    except Unstorable as exc:
        return _text(str(exc), 400)
    except Unavailable:
        log.warning("message from %s via Kannel not kept", mask(message.sender))
        return _text("busy, retry", 503)
    return _text("", 200)


@bp.route("/channels/kannel/dlr", methods=["GET", "POST"])
def dlr():
    services = current_app.extensions["tikabot"]
    if not kannel.authorized(services.config, request.args.get("token")):
        return _text("invalid or missing token", 403)
    try:
        report = kannel.parse_report(request.args)
    except kannel.BadRequest as exc:
        return _text(str(exc), 400)
    reports.apply(services, report)
    return _text("", 200)
