"""Exotel's requests to us (CONTRACT section 5): inbound SMS on the ExoPhone and delivery callbacks.

Exotel does not sign requests: each URL carries EXOTEL_CALLBACK_TOKEN (see handlers/exotel.py).
Wrong or missing token: 403, nothing recorded. Exotel's inbound SMS app calls its URL with GET
(after a HEAD asking for the content type) and sends any text in the answer as a reply SMS without
DLT ids; we answer an empty text/plain, and replies go out through the outbox on the DLT route.
"""
from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, request

from tikabot.handlers import exotel
from tikabot.inbox.accept import Unavailable, accept
from tikabot.inbox.storable import Unstorable
from tikabot.core.phones import mask
from tikabot.web import reports

bp = Blueprint("exotel", __name__)
log = logging.getLogger(__name__)


def _text(message: str, status: int) -> Response:
    return Response(message + ("\n" if message else ""), status=status, mimetype="text/plain")


def _basic_auth():
    """The request's basic-auth credentials; None for a header werkzeug cannot read (it raises
    ValueError on one holding a byte that is not ASCII): refused like a wrong password, never a 500."""
    try:
        return request.authorization
    except ValueError:
        return None


def _params() -> dict:
    return {**request.args.to_dict(flat=True), **request.form.to_dict(flat=True)}


@bp.route("/channels/exotel/inbound", methods=["GET", "POST"])
def inbound():
    services = current_app.extensions["tikabot"]
    if not exotel.authorized(services.config, request.args, _basic_auth()):
        return _text("invalid or missing token", 403)
    if request.method == "HEAD":
        return _text("", 200)
    try:
        message = exotel.to_message(_params())
    except exotel.BadRequest as exc:
        return _text(str(exc), 400)
    try:
        accept(services, message)
    except Unstorable as exc:
        return _text(str(exc), 400)
    except Unavailable:
        log.warning("message from %s via Exotel not kept", mask(message.sender))
        return _text("busy, retry", 503)
    return _text("", 200)


@bp.get("/channels/exotel/voice-code")
def voice_code():
    """The text the OTP call flow's dynamic Greeting reads out: the code from the call's CustomField,
    said twice. Exotel passes CustomField to the flow's URLs."""
    services = current_app.extensions["tikabot"]
    if not exotel.authorized(services.config, request.args, _basic_auth()):
        return _text("invalid or missing token", 403)
    if request.method == "HEAD":
        return _text("", 200)
    spoken = exotel.spoken_code(request.args.get("CustomField"))
    if spoken is None:
        return _text("no code in CustomField", 400)
    return _text(spoken, 200)


@bp.post("/channels/exotel/status")
def status():
    services = current_app.extensions["tikabot"]
    if not exotel.authorized(services.config, request.args, _basic_auth()):
        return _text("invalid or missing token", 403)
    try:
        report = exotel.parse_status(request.form, request.args)
    except exotel.BadRequest as exc:
        return _text(str(exc), 400)
    reports.apply(services, report)
    return "", 204
