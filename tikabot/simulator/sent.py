"""Every SMS the simulated providers were given, in one shape: Twilio's messages, Exotel's and the
gateway phones', C-DAC's, NIC's and Kannel's sends. What a rehearsal waits on (an OTP reaching a phone by whichever route) and
judges (no message reaching a phone twice, whichever routes its attempts went by).

Each entry: provider, sid (the provider's id, as tikabot stores it), to, body, created (epoch s),
final_status (delivered, undelivered or failed: what it ends as), outbox_id (tikabot's message id
when the provider was told it, else None).
"""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit


def _query_id(url: str | None) -> str | None:
    return (parse_qs(urlsplit(url or "").query).get("id") or [None])[0]


def _gateway_outbox_id(send_id: str) -> str | None:
    parts = send_id.split("-")  # tikabot names each attempt tb-<message id>-<attempt>
    return parts[1] if len(parts) == 3 and parts[0] == "tb" else None


def _kannel_id(url: str | None) -> str | None:
    query = parse_qs(urlsplit(url or "").query)
    ident, attempt = (query.get("id") or [None])[0], (query.get("attempt") or [None])[0]
    return f"kannel-{ident}-{attempt}" if ident and attempt else None


def sent_sms(sim, to: str | None = None) -> list[dict]:
    found = []
    for m in sim.messages(to=to):
        found.append({"provider": "twilio", "sid": m["sid"], "to": m["to"], "body": m["body"],
                      "created": m["created"], "final_status": m.get("final_status") or "delivered",
                      "outbox_id": _query_id(m.get("status_callback")), "status_callback": m.get("status_callback")})
    with sim.exotel._lock:
        exotel = [s for s in sim.exotel.sms.values() if to is None or s.to == to]
    for s in exotel:
        code = sim.config.exotel_delivery_errors.get(s.to)
        found.append({"provider": "exotel", "sid": s.sid, "to": s.to, "body": s.body, "created": s.created,
                      "final_status": "delivered" if code is None else "undelivered",
                      "outbox_id": _query_id(s.status_callback), "status_callback": s.status_callback})
    with sim.cdac._lock:
        cdac = list(sim.cdac.sms)
    for c in cdac:  # one entry per number: what each phone received
        for number in c.numbers:
            phone = "+91" + number[-10:]
            if to is None or phone == to:
                found.append({"provider": "cdac", "sid": c.msg_id, "to": phone, "body": c.text, "created": c.created,
                              "final_status": "delivered", "outbox_id": None, "status_callback": None})
    with sim.nic._lock:
        nic = [n for n in sim.nic.sms.values() if to is None or "+" + n.mnumber == to]
    for n in nic:
        found.append({"provider": "nic", "sid": n.request_id, "to": "+" + n.mnumber, "body": n.body,
                      "created": n.created, "final_status": "delivered" if n.status in ("DELIVRD", "SUBMITTED")
                      else "undelivered", "outbox_id": None, "status_callback": None})
    with sim.kannel._lock:
        kannel = [k for k in sim.kannel.sms if to is None or k.to == to]
    for k in kannel:  # our id and attempt ride in the dlr-url tikabot gave smsbox, and name the message
        found.append({"provider": "kannel", "sid": _kannel_id(k.dlr_url) or k.id, "to": k.to, "body": k.text, "created": k.created,
                      "final_status": "undelivered" if k.status == "undelivered" else "delivered",
                      "outbox_id": _query_id(k.dlr_url), "status_callback": None})
    for g in sim.smsgate.view():
        if to is not None and g["to"] != to:
            continue
        failed = g["state"] == "Failed" or g["to"] in sim.config.smsgate_failures
        found.append({"provider": "android", "sid": g["id"], "to": g["to"], "body": g["text"],
                      "created": g["created"], "final_status": "failed" if failed else "delivered",
                      "outbox_id": _gateway_outbox_id(g["id"]), "status_callback": None})
    return found
