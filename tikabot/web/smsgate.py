"""POST /channels/smsgate: SMS Gateway for Android's webhooks (CONTRACT section 5).

verify (signing key, X-Timestamp freshness) -> translate -> accept (sms:received) or apply the
delivery report (sms:sent / sms:delivered / sms:failed); system:ping only marks the phone alive.
Bad signature or stale timestamp: 403, nothing recorded, and the phone's health is untouched.
Any other event (mms:received, sms:data-received, ...) is acknowledged and ignored.
"""
from __future__ import annotations

import logging
import time

from flask import Blueprint, Response, current_app, request

from tikabot.handlers import android_devices, android_gateway
from tikabot.inbox.accept import Unavailable, accept
from tikabot.inbox.storable import Unstorable
from tikabot.core.phones import mask
from tikabot.web import reports

bp = Blueprint("smsgate", __name__)
log = logging.getLogger(__name__)


def _text(message: str, status: int) -> Response:
    return Response(message + "\n", status=status, mimetype="text/plain")


@bp.post("/channels/smsgate")
def webhook():
    services = current_app.extensions["tikabot"]
    body = request.get_data(cache=True)
    now = time.time()
    phone = android_gateway.verified_phone(services.config.smsgate_phones, body,
                                           request.headers.get("X-Signature"), request.headers.get("X-Timestamp"),
                                           now)
    if phone is None:
        return _text("invalid or stale X-Signature / X-Timestamp", 403)
    try:
        event = android_gateway.parse_event(body)
        if event.name == "sms:received":
            message = android_gateway.to_message(phone.id, event.payload)
        elif event.name in android_gateway.STATUS_EVENTS:
            report = android_gateway.to_report(event, phone.id)
    except android_gateway.BadWebhook as exc:
        return _text(str(exc), 400)
    radio_down = (event.name == "sms:failed" and report.kind is not None
                  and report.kind.name in android_gateway.PHONE_DOWN)
    if radio_down:  # the phone answers but cannot send: these count towards taking it out of rotation
        android_devices.send_failed(services.redis, phone.id, report.code or report.kind.name, now)
    else:
        android_devices.heard_from(services.redis, phone.id, now)
    if event.name == "sms:received":
        try:
            accept(services, message)
        except Unstorable as exc:
            return _text(str(exc), 400)
        except Unavailable:
            log.warning("message from %s via phone %s not kept; the app will retry", mask(message.sender), phone.id)
            return _text("busy, retry", 503)
        return _text("ok", 200)
    if event.name in android_gateway.STATUS_EVENTS:
        reports.apply(services, report)
    return "", 204
