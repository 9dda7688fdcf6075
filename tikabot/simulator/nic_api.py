"""The NIC SMS gateway, simulated: `POST /failsafe/HttpLink` and its delivery reports.

It checks what NIC checks (username and pin, signature, DLT entity and template ids, a number with
its country code), reads `msgType=UC` messages as hex UCS-2 (FEFF first), and answers as NIC
does: `Message Accepted for Request ID=<id>~code=API000 & info=Platform Accepted & Time=...`, or an
error code (`-2` invalid credentials, `-19` unauthorised). Delivery reports go to the URL
registered with the account (`nic_dlr_url`), as GET with requestid, mobile, status (SMPP receipt
words: DELIVRD, UNDELIV, ...), errcode and donetime: NIC's real field names are not public, these
are what tikabot reads.

Faults (FaultConfig): nic_next_faults, one per send: an error code ("-2", "-19", "-5"), an HTTP
status ("500"), "timeout" (no answer, nothing sent) or "lost" (the SMS is sent, then the answer never
comes); nic_account_error (every send answered with that code); nic_delivery_errors {number: word}.
Control: GET /_sim/nic (what was sent).
"""
from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import asdict, dataclass

import aiohttp
from aiohttp import web

from tikabot.simulator.appkeys import SIM
from tikabot.simulator.credentials import same

PATH = "/failsafe/HttpLink"


@dataclass
class NicSms:
    request_id: str
    mnumber: str
    body: str
    signature: str
    dlt_entity_id: str
    dlt_template_id: str
    msg_type: str
    created: float
    status: str = "SUBMITTED"


class NicState:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.sms: dict[str, NicSms] = {}
            self.reports: list[dict] = []
            self.next_id = 1790000000000000000

    def add(self, **fields) -> NicSms:
        with self._lock:
            self.next_id += 1
            sms = NicSms(request_id=str(self.next_id), created=time.time(), **fields)
            self.sms[sms.request_id] = sms
            return sms

    def view(self) -> dict:
        with self._lock:
            return {"sms": [asdict(s) for s in self.sms.values()], "reports": list(self.reports)}


def add_routes(app: web.Application) -> None:
    app.router.add_route("*", PATH, http_link)
    app.router.add_get("/_sim/nic", view)


def _text(body: str, status: int = 200) -> web.Response:
    return web.Response(text=body, status=status, content_type="text/plain")


def decode(message: str, msg_type: str) -> str | None:
    """The text NIC will send: as given, or for UC the hex UCS-2 after FEFF (None: not valid hex)."""
    if msg_type.upper() != "UC":
        return message
    digits = message[4:] if message.upper().startswith("FEFF") else message
    try:
        return bytes.fromhex(digits).decode("utf-16-be")
    except (ValueError, UnicodeDecodeError):
        return None


async def http_link(request: web.Request) -> web.Response:
    sim = request.app[SIM]
    config = sim.config
    form = {**request.query, **(await request.post())}
    if not (same(str(form.get("username", "")), config.nic_username)
            and same(str(form.get("pin", "")), config.nic_pin)):
        return _text("-2")
    if config.nic_account_error:
        return _text(str(config.nic_account_error))
    fault = str(config.nic_next_faults.pop(0)) if config.nic_next_faults else None
    if fault is not None:
        sim.records.count("nic_fault_" + fault)
        if fault == "timeout":
            await asyncio.sleep(config.timeout_sleep_s)
            return _text("-1")
        if fault.isdigit():
            return _text("Internal Server Error", int(fault))
        if fault != "lost":
            return _text(fault)
    mnumber, signature = str(form.get("mnumber", "")), str(form.get("signature", ""))
    entity, template = str(form.get("dlt_entity_id", "")), str(form.get("dlt_template_id", ""))
    body = decode(str(form.get("message", "")), str(form.get("msgType", "")))
    if not (mnumber.isdigit() and len(mnumber) == 12 and mnumber.startswith("91")):
        return _text("-3")  # the simulator's code for a number without its country code
    if not (signature and entity and template) or not body:
        return _text("-4")  # the simulator's code for a message without its DLT ids or text
    sms = sim.nic.add(mnumber=mnumber, body=body, signature=signature, dlt_entity_id=entity,
                      dlt_template_id=template, msg_type=str(form.get("msgType", "")))
    sim.records.count("nic_sms")
    sim.callbacks.track(_report(sim, sms))
    if fault == "lost":  # sent, then the connection hangs until the client gives up
        await asyncio.sleep(config.timeout_sleep_s)
    return _text(f"Message Accepted for Request ID={sms.request_id}~code=API000 & info=Platform Accepted "
                 f"& Time={time.strftime('%Y/%m/%d/%H:%M')}")


async def _report(sim, sms: NicSms) -> None:
    config = sim.config
    await asyncio.sleep(config.delivered_delay_s)
    word = config.nic_delivery_errors.get("+" + sms.mnumber) or config.nic_delivery_errors.get(sms.mnumber)
    sms.status = word or "DELIVRD"
    if not config.nic_dlr_url:
        return
    params = {"requestid": sms.request_id, "mobile": sms.mnumber, "status": sms.status,
              "errcode": "000" if sms.status == "DELIVRD" else "001", "donetime": time.strftime("%Y-%m-%d %H:%M:%S")}
    status = None
    try:
        async with sim.http.get(config.nic_dlr_url, params=params,
                                timeout=aiohttp.ClientTimeout(total=config.callback_timeout_s)) as answer:
            status = answer.status
            await answer.read()
    except (aiohttp.ClientError, asyncio.TimeoutError):
        status = None
    with sim.nic._lock:
        sim.nic.reports.append({"requestid": sms.request_id, "status": sms.status, "http_status": status})


async def view(request: web.Request) -> web.Response:
    return web.json_response(request.app[SIM].nic.view())
