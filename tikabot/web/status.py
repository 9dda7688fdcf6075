"""POST /sms/status: Twilio's delivery reports for the messages we sent.

The signature is checked against the public URL (PUBLIC_BASE_URL + path + query), so it holds
behind a proxy. Bad signature: 403, nothing changes. Unusable report: 400 with a reason.
Anything else: 204, after the outbox row moved (forward only) or a retry was planned.
"""
from __future__ import annotations

import logging

from flask import Blueprint, current_app, request

from tikabot.handlers import twilio_inbound
from tikabot.handlers.twilio_sms import BadStatusReport, parse_status
from tikabot.web import reports
from tikabot.web import metrics

bp = Blueprint("sms_status", __name__)
log = logging.getLogger(__name__)


@bp.record_once
def _metrics(state) -> None:
    metrics.install(state.app.extensions["tikabot"])


@bp.post("/sms/status")
def sms_status():
    services = current_app.extensions["tikabot"]
    config = services.config
    url = twilio_inbound.public_url(config.public_base_url, request.path, request.query_string.decode("latin-1"),
                                    request.url)
    if not twilio_inbound.signature_ok(config.twilio_auth_token, url, request.form,
                                       request.headers.get("X-Twilio-Signature")):
        return "invalid signature\n", 403, {"Content-Type": "text/plain"}
    try:
        report = parse_status(request.form, request.args)
    except BadStatusReport as exc:
        return f"{exc}\n", 400, {"Content-Type": "text/plain"}
    reports.apply(services, report)
    return "", 204
