"""The NIC SMS gateway's delivery reports (handlers/nic.py).

NIC signs nothing: the URL registered with NIC carries NIC_CALLBACK_TOKEN (compared in constant
time), and, when NIC_ALLOWED_SOURCES is set, only those addresses may post. Behind our reverse
proxy (TIKABOT_TRUSTED_PROXIES) the address is the one the proxy saw, from X-Forwarded-For; from
any other peer that header is ignored. Refused: 403, nothing changed.
"""
from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from tikabot.handlers import nic
from tikabot.web import reports

bp = Blueprint("nic", __name__)


def _text(message: str, status: int) -> Response:
    return Response(message + ("\n" if message else ""), status=status, mimetype="text/plain")


@bp.route("/channels/nic/dlr", methods=["GET", "POST"])
def dlr():
    services = current_app.extensions["tikabot"]
    if not nic.authorized(services.config, request.args.get("token"), request.remote_addr,
                          request.headers.get("X-Forwarded-For")):
        return _text("invalid or missing token", 403)
    values = {**request.args.to_dict(flat=True), **request.form.to_dict(flat=True)}
    values.pop("token", None)
    try:
        report = nic.parse_report(values)
    except nic.BadRequest as exc:
        return _text(str(exc), 400)
    reports.apply(services, report)
    return _text("", 200)
