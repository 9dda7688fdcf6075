"""Kannel's smsbox, simulated: `GET /cgi-bin/sendsms` and the delivery reports it calls back, as
Debian's Kannel 1.4.5 does (tests/fixtures/kannel/ holds what a real one sent).

sendsms checks the sendsms-user's username and password (403 "Authorization failed for sendsms")
and a receiver (400), reads the text as `coding`/`charset` say (coding 2: UTF-16BE bytes) and answers
`202 0: Accepted for delivery`. Kannel gives no id of its own: the message is found by the dlr-url
tikabot gave it. That URL is called as Kannel calls it, `%d` and `%A` filled in: 8 (the SMSC took
it, answer `ACK/`), then 1 (delivered) or 2 (not delivered, `kannel_delivery_errors` numbers).

Faults (FaultConfig): kannel_next_faults, one per send: "503" (smsbox's "Temporal failure, try again
later"), "timeout" (no answer, nothing sent), "lost" (sent, then no answer: its reports still come);
kannel_down: "503" (every send refused as a bearerbox gone away) or "unreachable" (smsbox drops every
connection unanswered). Control: GET /_sim/kannel (what was sent), POST /_sim/kannel/receive
{"from", "body", "url"} plays the sms-service's get-url call for an SMS a phone sent.
"""
from __future__ import annotations

import asyncio
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from urllib.parse import parse_qs, quote

import aiohttp
from aiohttp import web
from yarl import URL

from tikabot.i18n.encoding import GSM7, encoding_of
from tikabot.simulator.appkeys import SIM
from tikabot.simulator.credentials import same

PATH = "/cgi-bin/sendsms"
ACCEPTED = "0: Accepted for delivery"


@dataclass
class KannelSms:
    id: str
    sender: str
    to: str  # E.164, as a phone is named everywhere in the simulator
    text: str  # as the phone shows it
    coding: str
    dlr_url: str | None
    meta_data: str | None
    created: float
    status: str = "queued"  # queued | sent (SMSC ack) | delivered | undelivered


class KannelState:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.sms: list[KannelSms] = []
            self.reports: list[dict] = []
            self.inbound: list[dict] = []

    def view(self) -> dict:
        with self._lock:
            return {"sms": [asdict(s) for s in self.sms], "reports": list(self.reports),
                    "inbound": list(self.inbound)}


def add_routes(app: web.Application) -> None:
    app.router.add_route("*", PATH, sendsms)
    app.router.add_get("/_sim/kannel", view)
    app.router.add_post("/_sim/kannel/receive", inject_inbound)


def _text(body: str, status: int) -> web.Response:
    return web.Response(text=body, status=status, content_type="text/html")  # smsbox answers text/html


def raw_query(query_string: str) -> dict[str, bytes]:
    """The query's values as bytes (a UTF-16BE text is no UTF-8 string)."""
    pairs = parse_qs(query_string, keep_blank_values=True, encoding="latin-1")
    return {key: values[0].encode("latin-1") for key, values in pairs.items()}


def decode_text(raw: bytes, coding: str, charset: str) -> str | None:
    name = "utf-16-be" if coding == "2" else (charset or "utf-8")
    try:
        return raw.decode(name)
    except (LookupError, UnicodeDecodeError):
        return None


async def sendsms(request: web.Request) -> web.Response:
    sim = request.app[SIM]
    config = sim.config
    if config.kannel_down == "unreachable":
        request.transport.close()  # smsbox gone: the connection drops with no answer
        raise ConnectionResetError("smsbox unreachable (simulated)")
    if config.kannel_down:
        return _text("Temporal failure, try again later.", 503)
    query = raw_query(request.rel_url.raw_query_string)
    value = {k: v.decode("latin-1") for k, v in query.items() if k != "text"}
    if not (same(value.get("username", ""), config.kannel_username)
            and same(value.get("password", ""), config.kannel_password)):
        return _text("Authorization failed for sendsms", 403)
    fault = str(config.kannel_next_faults.pop(0)) if config.kannel_next_faults else None
    if fault is not None:
        sim.records.count("kannel_fault_" + fault)
    if fault == "timeout":
        await asyncio.sleep(config.timeout_sleep_s)
        return _text("", 504)
    if fault == "503":
        return _text("Temporal failure, try again later.", 503)
    to = value.get("to", "").strip()
    if not to:
        return _text("Missing receiver number for sendsms", 400)
    text = decode_text(query.get("text", b""), value.get("coding", ""), value.get("charset", ""))
    if text is None:
        return _text("Charset or body misformed, rejected", 400)
    digits = to.lstrip("+")
    phone = "+" + digits if len(digits) == 12 and digits.startswith("91") else "+91" + digits[-10:]
    sms = KannelSms(str(uuid.uuid4()), value.get("from", ""), phone, text, value.get("coding", "0"),
                    value.get("dlr-url") or None, value.get("meta-data") or None, time.time())
    with sim.kannel._lock:
        sim.kannel.sms.append(sms)
    sim.records.count("kannel_sms")
    sim.callbacks.track(_reports(sim, sms))
    if fault == "lost":  # accepted and on its way; the answer never reaches tikabot
        await asyncio.sleep(config.timeout_sleep_s)
        return _text("", 504)
    return _text(ACCEPTED, 202)


async def _reports(sim, sms: KannelSms) -> None:
    """The SMSC's ack (8), then the phone's report (1 delivered, 2 not delivered), to the dlr-url."""
    config = sim.config
    await asyncio.sleep(config.sent_delay_s)
    sms.status = "sent"
    await _call_dlr(sim, sms, 8, "ACK/")
    await asyncio.sleep(config.delivered_delay_s)
    failed = sms.to in config.kannel_delivery_errors or sms.to.lstrip("+") in config.kannel_delivery_errors
    sms.status = "undelivered" if failed else "delivered"
    await _call_dlr(sim, sms, 2 if failed else 1, "")


async def _call_dlr(sim, sms: KannelSms, value: int, answer: str) -> None:
    if not sms.dlr_url:
        return
    url = sms.dlr_url.replace("%d", str(value)).replace("%A", quote(answer, safe=""))
    status = None
    for attempt in range(sim.config.callback_retries + 1):
        try:
            async with sim.http.get(URL(url, encoded=True),
                                    timeout=aiohttp.ClientTimeout(total=sim.config.callback_timeout_s)) as reply:
                status = reply.status
                await reply.read()
            if status < 500:
                break
        except (aiohttp.ClientError, asyncio.TimeoutError):
            status = None
        await asyncio.sleep(sim.config.callback_retry_delay_s * (attempt + 1))
    with sim.kannel._lock:
        sim.kannel.reports.append({"id": sms.id, "status": value, "url": url, "http_status": status})


async def view(request: web.Request) -> web.Response:
    return web.json_response(request.app[SIM].kannel.view())


async def inject_inbound(request: web.Request) -> web.Response:
    """An SMS a phone sent reaching smsbox: its sms-service calls the get-url tikabot registered
    (`...&id=%I&from=%p&text=%b&coding=%c&charset=%C`), the text UTF-16BE with coding 2 when GSM-7
    cannot carry it, as Kannel hands over what the SMSC delivered."""
    sim = request.app[SIM]
    body = await request.json()
    text = str(body["body"])
    unicode = encoding_of(text) != GSM7
    raw = text.encode("utf-16-be" if unicode else "utf-8")
    ident = str(body.get("id") or uuid.uuid4())
    params = [("id", ident.encode()), ("from", str(body["from"]).lstrip("+").encode()),
              ("to", str(body.get("to", "9223166166")).encode()), ("text", raw),
              ("coding", b"2" if unicode else b"0"), ("charset", b"UTF-16BE" if unicode else b"UTF-8"),
              ("time", time.strftime("%Y-%m-%d %H:%M:%S").encode()), ("smsc", b"operator")]
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in params)
    base = str(body["url"])
    url = f"{base}{'&' if '?' in base else '?'}{query}"
    async with sim.http.get(URL(url, encoded=True)) as reply:
        answer = await reply.text()
        with sim.kannel._lock:
            sim.kannel.inbound.append({"id": ident, "from": body["from"], "http_status": reply.status})
        return web.json_response({"status": reply.status, "reply": answer})
