"""Exotel, simulated: the v1 SMS send / SMS details / Calls connect API and its delivery callbacks.

Basic auth with the API key and token; answers in Exotel's JSON shapes (SMSMessage, Call,
RestException). Callbacks are form posts to StatusCallback with SmsSid, To, Status, DetailedStatus,
DetailedStatusCode, SmsUnits, DateSent, CustomField, unsigned (Exotel signs nothing).

Faults (FaultConfig): exotel_next_faults ["429", "500", "timeout", ...] one per send;
exotel_account_error (an HTTP status such as 403: the account is down, every request refused);
exotel_delivery_errors {number: DetailedStatusCode}; a domestic (+91) send without DltEntityId is
refused with 400, as Exotel does. Control: GET /_sim/exotel (what was sent), POST /_sim/exotel/receive
{"from", "to", "body", "url"} plays Exotel's inbound SMS app calling our URL (GET with SmsSid, From, To,
Date, Body).
"""
from __future__ import annotations

import asyncio
import os
import threading
import time
from dataclasses import asdict, dataclass

import aiohttp
from aiohttp import web

from tikabot.i18n.encoding import segments
from tikabot.simulator.appkeys import SIM
from tikabot.simulator.credentials import basic_auth_is

PREFIX = "/v1/Accounts/{sid}"
DETAILED = {20005: "DELIVERED_TO_HANDSET", 23005: "FAILED_DND", 23010: "FAILED_INVALID_NUMBER",
            23035: "FAILED_SUBSCRIBER_UNAVAILABLE", 23182: "DLT_TEMPLATE_NOT_FOUND",
            23185: "DLT_TEMPLATE_DOES_NOT_MATCH", 24110: "FAILED_OPERATOR_ERROR"}


@dataclass
class ExotelSms:
    sid: str
    from_: str
    to: str
    body: str
    dlt_entity_id: str | None
    dlt_template_id: str | None
    sms_type: str | None
    encoding_type: str | None
    status_callback: str | None
    custom_field: str | None
    created: float
    status: str = "queued"
    detailed_code: int | None = 21010


class ExotelState:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.sms: dict[str, ExotelSms] = {}
            self.calls: list[dict] = []
            self.callbacks: list[dict] = []

    def view(self) -> dict:
        with self._lock:
            return {"sms": [asdict(s) for s in self.sms.values()], "calls": list(self.calls),
                    "callbacks": list(self.callbacks)}


def add_routes(app: web.Application) -> None:
    r = app.router
    for suffix in ("", ".json"):
        r.add_post(PREFIX + "/Sms/send" + suffix, send_sms)
        r.add_get(PREFIX + "/SMS/Messages/{sms_sid}" + suffix, get_sms)
        r.add_post(PREFIX + "/Calls/connect" + suffix, connect_call)
    r.add_get("/_sim/exotel", view)
    r.add_post("/_sim/exotel/receive", inject_inbound)


def rest_exception(status: int, message: str) -> web.Response:
    return web.json_response({"RestException": {"Status": status, "Message": message}}, status=status)


def refused(request: web.Request) -> web.Response | None:
    config = request.app[SIM].config
    if not basic_auth_is(request.headers.get("Authorization"), config.exotel_api_key, config.exotel_api_token):
        return rest_exception(401, "Authentication failed. Invalid API Key or Token.")
    if request.match_info["sid"] != config.exotel_account_sid:
        return rest_exception(404, "Account not found")
    if config.exotel_account_error:
        return rest_exception(int(config.exotel_account_error), "Account is not active")
    return None


def sms_json(sms: ExotelSms) -> dict:
    return {"SMSMessage": {
        "Sid": sms.sid, "AccountSid": "sim", "From": sms.from_, "To": sms.to, "Body": sms.body,
        "Status": sms.status, "DetailedStatusCode": sms.detailed_code,
        "DetailedStatus": DETAILED.get(sms.detailed_code or 0, "PENDING_TO_OPERATOR"),
        "DateCreated": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(sms.created)),
        "Uri": f"/v1/Accounts/sim/SMS/Messages/{sms.sid}.json"}}


async def send_sms(request: web.Request) -> web.Response:
    sim = request.app[SIM]
    answer = refused(request)
    if answer is not None:
        return answer
    config = sim.config
    if config.exotel_next_faults:
        fault = str(config.exotel_next_faults.pop(0))
        sim.records.count("exotel_fault_" + fault)
        if fault == "timeout":
            await asyncio.sleep(config.timeout_sleep_s)
            return rest_exception(500, "Internal Server Error")
        return rest_exception(int(fault), "simulated")
    form = await request.post()
    to, body, sender = form.get("To", ""), form.get("Body", ""), form.get("From", "")
    if not (to and body and sender):
        return rest_exception(400, "Invalid Parameters")
    if to.startswith("+91") and not form.get("DltEntityId"):
        return rest_exception(400, "DltEntityId is mandatory for India")
    sms = ExotelSms(os.urandom(16).hex(), sender, to, body, form.get("DltEntityId"), form.get("DltTemplateId"),
                    form.get("SmsType"), form.get("EncodingType"), form.get("StatusCallback"),
                    form.get("CustomField"), time.time())
    with sim.exotel._lock:
        sim.exotel.sms[sms.sid] = sms
    sim.records.count("exotel_sms")
    sim.callbacks.track(_settle(sim, sms))
    return web.json_response(sms_json(sms), status=200)


async def get_sms(request: web.Request) -> web.Response:
    sim = request.app[SIM]
    answer = refused(request)
    if answer is not None:
        return answer
    sms = sim.exotel.sms.get(request.match_info["sms_sid"])
    if sms is None:
        return rest_exception(404, "SMS not found")
    return web.json_response(sms_json(sms))


async def connect_call(request: web.Request) -> web.Response:
    sim = request.app[SIM]
    answer = refused(request)
    if answer is not None:
        return answer
    form = await request.post()
    if not (form.get("From") and form.get("CallerId") and form.get("Url")):
        return rest_exception(400, "From, CallerId and Url are required")
    call = {"Sid": os.urandom(16).hex(), "From": form["From"], "CallerId": form["CallerId"], "Url": form["Url"],
            "CustomField": form.get("CustomField"), "Status": "in-progress", "created": time.time()}
    with sim.exotel._lock:
        sim.exotel.calls.append(call)
    return web.json_response({"Call": {k: v for k, v in call.items() if k != "created"}})


async def _settle(sim, sms: ExotelSms) -> None:
    config = sim.config
    await asyncio.sleep(config.delivered_delay_s)
    code = config.exotel_delivery_errors.get(sms.to)
    if code is None:
        sms.status, sms.detailed_code = "sent", 20005
    else:
        sms.status, sms.detailed_code = ("failed_dnd" if int(code) == 23005 else "failed"), int(code)
    if not sms.status_callback:
        return
    form = {"SmsSid": sms.sid, "To": sms.to, "Status": sms.status, "SmsUnits": str(segments(sms.body)),
            "DetailedStatus": DETAILED.get(sms.detailed_code, "FAILED"), "DetailedStatusCode": str(sms.detailed_code),
            "DateSent": time.strftime("%Y-%m-%d %H:%M:%S")}
    if sms.custom_field:
        form["CustomField"] = sms.custom_field
    status = None
    for _ in range(config.callback_retries + 1):  # Exotel retries a failed callback up to 2 times
        try:
            async with sim.http.post(sms.status_callback, data=form,
                                     timeout=aiohttp.ClientTimeout(total=config.callback_timeout_s)) as answer:
                status = answer.status
                await answer.read()
        except (aiohttp.ClientError, asyncio.TimeoutError):
            status = None
        if status is not None and status < 300:
            break
        await asyncio.sleep(config.callback_retry_delay_s)
    with sim.exotel._lock:
        sim.exotel.callbacks.append({"sid": sms.sid, "status": sms.status, "http_status": status})


async def view(request: web.Request) -> web.Response:
    return web.json_response(request.app[SIM].exotel.view())


async def inject_inbound(request: web.Request) -> web.Response:
    sim = request.app[SIM]
    body = await request.json()
    params = {"SmsSid": body.get("sid") or os.urandom(16).hex(), "From": body["from"],
              "To": body.get("to", "08047000000"), "Date": time.strftime("%Y-%m-%d %H:%M:%S"), "Body": body["body"]}
    async with sim.http.get(body["url"], params=params) as answer:
        text = await answer.text()
        return web.json_response({"status": answer.status, "reply": text, "params": params})
