"""POST /sms/status: Twilio's delivery reports for the messages we sent.

The signature is checked against the public URL (PUBLIC_BASE_URL + path + query), so it holds
behind a proxy. Bad signature: 403, nothing changes. Unusable report: 400 with a reason.
Anything else: 204, after the outbox row moved (forward only) or a retry was planned.
"""
from __future__ import annotations

import logging

from flask import Blueprint, current_app, request
from twilio.request_validator import RequestValidator

from tikabot.clock import now
from tikabot.handlers.twilio_sms import BadStatusReport, parse_status
from tikabot.queue.callbacks import apply_report
from tikabot.queue.settings import SendSettings

bp = Blueprint("sms_status", __name__)
log = logging.getLogger(__name__)


@bp.record_once
def _metrics(state) -> None:
    from tikabot import metrics

    metrics.install(state.app.extensions["tikabot"])


def public_url() -> str:
    services = current_app.extensions["tikabot"]
    base = (services.config.public_base_url or request.host_url).rstrip("/")
    query = request.query_string.decode("latin-1")
    return base + request.path + (f"?{query}" if query else "")


def signed(token: str | None) -> bool:
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    return RequestValidator(token).validate(public_url(), request.form.to_dict(flat=True), signature)


@bp.post("/sms/status")
def sms_status():
    services = current_app.extensions["tikabot"]
    if not signed(services.config.twilio_auth_token):
        return "invalid signature\n", 403, {"Content-Type": "text/plain"}
    try:
        report = parse_status(request.form, request.args)
    except BadStatusReport as exc:
        return f"{exc}\n", 400, {"Content-Type": "text/plain"}
    settings = current_app.extensions.setdefault("tikabot_send_settings", SendSettings.from_env())
    with services.transaction() as session:
        result = apply_report(session, report, now=now(), settings=settings, redis=services.redis)
    log.info("status %s for %s: %s", report.status, report.provider_id, result)
    return "", 204
