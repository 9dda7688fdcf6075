"""C-DAC Mobile Seva (MSDG), simulated: the DLT send API (POST /esms/sendsmsrequestDLT) and its pull
SMS calling the department's URL.

It checks what MSDG checks, with MSDG's answer codes in a one-line text body: the password's
SHA-1 (401), the per-message SHA-512 key over username + senderid + content + secure key (416, 425
without one), the template id (423), the header (412), numbers of 10 or 12 digits (406), at most two
numbers for the OTP types (417); accepted: `402,MsgID = <id>msdgsms`. Unicode types must carry
`&#N;` entities; what a phone would show is kept decoded.

Faults (FaultConfig): cdac_next_faults, one per send: an answer code ("403", "418", ...), "500"
(HTTP 500), "timeout" (no answer, nothing sent) or "lost" (sent, then no answer: the answer lost
after the send); cdac_account_error: a code every send is refused with (403: credits exhausted).
Control: GET /_sim/cdac (what was sent), POST /_sim/cdac/receive {"from", "body", "url"[, "method"]}
plays MSDG calling our pull URL.
"""
from __future__ import annotations

import asyncio
import os
import threading
import time
from dataclasses import asdict, dataclass

from aiohttp import web

from tikabot.handlers.cdac_client import OTP_MAX_NUMBERS, from_entities, message_key, password_hash
from tikabot.simulator.appkeys import SIM
from tikabot.simulator.credentials import same

PATH = "/esms/sendsmsrequestDLT"
WORDS = {401: "Credentials Error", 403: "Credits not available", 406: "Invalid mobile number(s)",
         409: "SMSC timeout", 412: "Sender ID not approved", 413: "Suspected spam", 414: "Rejected by operator",
         415: "Secure key not found", 416: "Hash is not matching", 417: "otpmsg allows only 2 mobile numbers",
         418: "Daily limit exceeded", 422: "Entity ID must be 12 to 19 digits", 423: "Template ID is mandatory",
         425: "Secure key is mandatory"}
UNICODE_TYPES = ("unicodemsg", "unicodeotpmsg")
OTP_TYPES = ("otpmsg", "unicodeotpmsg")
SERVICE_TYPES = ("singlemsg", "bulkmsg", "unicodemsg", "otpmsg", "unicodeotpmsg")


@dataclass
class CdacSms:
    msg_id: str
    sender_id: str
    numbers: list
    text: str  # as the phone shows it
    service_type: str
    template_id: str
    entity_id: str | None
    created: float


class CdacState:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.sms: list[CdacSms] = []
            self.answers: list[str] = []  # every answer given, in order

    def view(self) -> dict:
        with self._lock:
            return {"sms": [asdict(s) for s in self.sms], "answers": list(self.answers)}


def add_routes(app: web.Application) -> None:
    app.router.add_post(PATH, send_sms)
    app.router.add_get("/_sim/cdac", view)
    app.router.add_post("/_sim/cdac/receive", inject_pull)


def answer(sim, code: int, text: str | None = None) -> web.Response:
    body = text or f"{code},{WORDS.get(code, 'Error')}"
    with sim.cdac._lock:
        sim.cdac.answers.append(body)
    return web.Response(text=body, content_type="text/html")  # MSDG answers text/html


def refusal(config, form) -> int | None:
    """The code MSDG would refuse this form with, or None."""
    if form.get("username", "") != config.cdac_username or not same(
            form.get("password", ""), password_hash(config.cdac_password)):
        return 401
    if config.cdac_account_error:
        return int(config.cdac_account_error)
    if not form.get("key"):
        return 425
    content = form.get("content", "")
    expected = message_key(form["username"], form.get("senderid", ""), content, config.cdac_secure_key)
    if not same(form["key"], expected):
        return 416
    if not form.get("templateid"):
        return 423
    if form.get("entityid") and not (form["entityid"].isdigit() and 12 <= len(form["entityid"]) <= 19):
        return 422
    if form.get("senderid") not in config.cdac_sender_ids:
        return 412
    numbers = numbers_of(form)
    if not numbers or any(not (n.isdigit() and len(n) in (10, 12)) for n in numbers) or len(set(numbers)) != len(numbers):
        return 406
    if form.get("smsservicetype") in OTP_TYPES and len(numbers) > OTP_MAX_NUMBERS:
        return 417
    return None


def numbers_of(form) -> list[str]:
    raw = form.get("mobileno") or form.get("bulkmobno") or ""
    return [n.strip() for n in raw.split(",") if n.strip()]


async def send_sms(request: web.Request) -> web.Response:
    sim = request.app[SIM]
    config = sim.config
    form = await request.post()
    fault = str(config.cdac_next_faults.pop(0)) if config.cdac_next_faults else None
    if fault is not None:
        sim.records.count("cdac_fault_" + fault)
    if fault == "timeout":
        await asyncio.sleep(config.timeout_sleep_s)
        return web.Response(status=504, text="Gateway Timeout")
    if fault == "500":
        return web.Response(status=500, text="Internal Server Error")
    if fault not in (None, "lost"):
        return answer(sim, int(fault))
    code = refusal(config, form)
    if code is not None:
        return answer(sim, code)
    service_type = form.get("smsservicetype", "")
    if service_type not in SERVICE_TYPES:
        return answer(sim, 400, "400,Invalid smsservicetype")
    content = form.get("content", "")
    try:
        text = from_entities(content) if service_type in UNICODE_TYPES else content
    except ValueError:
        return answer(sim, 400, "400,Unicode content must be &#N; entities")
    sms = CdacSms(f"{int(time.time() * 1000)}{os.urandom(4).hex()}msdgsms", form["senderid"], numbers_of(form),
                  text, service_type, form["templateid"], form.get("entityid"), time.time())
    with sim.cdac._lock:
        sim.cdac.sms.append(sms)
    sim.records.count("cdac_sms")
    if fault == "lost":  # taken and sent, but the answer never reaches the department
        await asyncio.sleep(config.timeout_sleep_s)
        return web.Response(status=504, text="Gateway Timeout")
    return answer(sim, 402, f"402,MsgID = {sms.msg_id}")


async def view(request: web.Request) -> web.Response:
    return web.json_response(request.app[SIM].cdac.view())


async def inject_pull(request: web.Request) -> web.Response:
    """MSDG forwarding a pull SMS to the department's URL, as its documents show: mobileNumber (10
    digits), timeStamp, operatorName and areaCode (blank today), message."""
    sim = request.app[SIM]
    body = await request.json()
    number = str(body["from"]).removeprefix("+91")
    params = {"mobileNumber": number, "timeStamp": body.get("time") or time.strftime("%Y-%m-%d %H:%M:%S"),
              "operatorName": "", "areaCode": "", "message": body["body"]}
    if body.get("method", "GET").upper() == "POST":
        call = sim.http.post(body["url"], data=params)
    else:
        call = sim.http.get(body["url"], params=params)
    async with call as reply:
        return web.json_response({"status": reply.status, "reply": await reply.text(), "params": params})
