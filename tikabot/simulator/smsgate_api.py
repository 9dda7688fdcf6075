"""SMS Gateway for Android, simulated: several phones' local-server APIs and their signed webhooks.

Each simulated phone lives under /smsgate/<phone id> (that is its base URL, as http://PHONE:8080 is
a real one's): POST /message and /messages (send), GET /messages/<id> (state), GET /health; basic
auth with the phone's username and password. After a send it posts sms:sent then sms:delivered (or
sms:failed with the Android reason configured for that number) to the phone's webhook URL, signed
as the app signs (hex HMAC-SHA256 of body + X-Timestamp with the phone's signing key).

Faults (FaultConfig): smsgate_failures {number: reason}, smsgate_next_faults ["500", "401",
"timeout", ...] consumed one per send, smsgate_offline [phone ids]: an offline phone answers
nothing (its requests hang until the client gives up) and sends no webhooks or pings.
smsgate_ping_interval_s > 0: every phone pings on its own, as the app does when set to.
Control: POST /_sim/smsgate/<phone>/receive {"from", "text"} makes the phone receive an SMS and post
sms:received; POST /_sim/smsgate/<phone>/ping posts system:ping; GET /_sim/smsgate lists sends.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import threading
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone

import aiohttp
from aiohttp import web

from tikabot.simulator.appkeys import SIM
from tikabot.simulator.credentials import basic_auth_is

IST = timezone(timedelta(hours=5, minutes=30))


@dataclass
class GatewaySend:
    id: str
    phone: str
    to: str
    text: str
    sim_number: int | None
    ttl: int | None
    created: float
    state: str = "Pending"
    error: str | None = None


class SmsGateState:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.sends: dict[tuple[str, str], GatewaySend] = {}
            self.webhooks: list[dict] = []

    def add(self, send: GatewaySend) -> None:
        with self._lock:
            self.sends[(send.phone, send.id)] = send

    def get(self, phone: str, message_id: str) -> GatewaySend | None:
        return self.sends.get((phone, message_id))

    def view(self) -> list[dict]:
        with self._lock:
            return [asdict(s) for s in self.sends.values()]

    def log(self, entry: dict) -> None:
        with self._lock:
            self.webhooks.append(entry)


def sign(key: str, body: bytes, timestamp: str) -> str:
    return hmac.new(key.encode(), body + timestamp.encode(), hashlib.sha256).hexdigest()


def add_routes(app: web.Application) -> None:
    r = app.router
    for path in ("/smsgate/{phone}/message", "/smsgate/{phone}/messages"):
        r.add_post(path, send_message)
    r.add_get("/smsgate/{phone}/messages/{id}", get_message)
    r.add_get("/smsgate/{phone}/health", health)
    r.add_post("/_sim/smsgate/{phone}/receive", inject_received)
    r.add_post("/_sim/smsgate/{phone}/ping", inject_ping)
    r.add_get("/_sim/smsgate", list_sends)


def _phone(request: web.Request) -> dict:
    phone = request.app[SIM].config.smsgate_phones.get(request.match_info["phone"])
    if phone is None:
        raise web.HTTPNotFound(text=json.dumps({"message": "no such phone"}), content_type="application/json")
    return phone


async def _gate(request: web.Request) -> dict:
    """Authenticate, and play an offline phone: no answer at all until the client gives up."""
    sim = request.app[SIM]
    phone = _phone(request)
    if request.match_info["phone"] in sim.config.smsgate_offline:
        await asyncio.sleep(sim.config.timeout_sleep_s)
        raise web.HTTPGatewayTimeout()
    if not basic_auth_is(request.headers.get("Authorization"), phone.get("username", ""), phone.get("password", "")):
        raise web.HTTPUnauthorized(text=json.dumps({"message": "Unauthorized"}), content_type="application/json")
    return phone


def state_json(send: GatewaySend) -> dict:
    return {"id": send.id, "deviceId": f"sim-{send.phone}", "state": send.state, "isHashed": False,
            "isEncrypted": False, "recipients": [{"phoneNumber": send.to, "state": send.state, "error": send.error}],
            "states": {}}


async def send_message(request: web.Request) -> web.Response:
    sim = request.app[SIM]
    await _gate(request)
    config = sim.config
    if config.smsgate_next_faults:
        fault = str(config.smsgate_next_faults.pop(0))
        sim.records.count("smsgate_fault_" + fault)
        if fault == "timeout":
            await asyncio.sleep(config.timeout_sleep_s)
        return web.json_response({"message": f"simulated {fault}"}, status=500 if fault == "timeout" else int(fault))
    body = await request.json()
    numbers = body.get("phoneNumbers") or []
    text = (body.get("textMessage") or {}).get("text") or body.get("message")
    if len(numbers) != 1 or not text:
        return web.json_response({"message": "one phone number and a text are required"}, status=400)
    phone_id = request.match_info["phone"]
    message_id = body.get("id") or os.urandom(10).hex()
    if sim.smsgate.get(phone_id, message_id) is not None:
        return web.json_response({"message": "Message with the same ID already exists"}, status=409)
    send = GatewaySend(message_id, phone_id, numbers[0], text, body.get("simNumber"), body.get("ttl"), time.time())
    sim.smsgate.add(send)
    sim.records.count("smsgate_messages")
    sim.callbacks.track(_deliver(sim, send))
    return web.json_response(state_json(send), status=202)


async def get_message(request: web.Request) -> web.Response:
    sim = request.app[SIM]
    await _gate(request)
    send = sim.smsgate.get(request.match_info["phone"], request.match_info["id"])
    if send is None:
        return web.json_response({"message": "not found"}, status=404)
    return web.json_response(state_json(send))


async def health(request: web.Request) -> web.Response:
    await _gate(request)
    return web.json_response({"status": "pass", "version": "sim", "releaseId": 1, "checks": {}})


async def _deliver(sim, send: GatewaySend) -> None:
    config = sim.config
    await asyncio.sleep(config.sent_delay_s)
    reason = config.smsgate_failures.get(send.to)
    now = datetime.now(IST).isoformat(timespec="milliseconds")
    base = {"messageId": send.id, "phoneNumber": send.to, "recipient": send.to, "sender": None,
            "simNumber": send.sim_number}
    if reason:
        send.state, send.error = "Failed", reason
        await post_webhook(sim, send.phone, "sms:failed", {**base, "failedAt": now, "reason": reason})
        return
    send.state = "Sent"
    await post_webhook(sim, send.phone, "sms:sent", {**base, "sentAt": now, "partsCount": 1})
    await asyncio.sleep(config.delivered_delay_s)
    send.state = "Delivered"
    await post_webhook(sim, send.phone, "sms:delivered",
                       {**base, "deliveredAt": datetime.now(IST).isoformat(timespec="milliseconds")})


async def post_webhook(sim, phone_id: str, event: str, payload: dict) -> int | None:
    """POST one signed webhook as the app does; retried like the app's worker. Returns the status."""
    config = sim.config
    phone = config.smsgate_phones.get(phone_id) or {}
    url = phone.get("webhook_url")
    if not url or phone_id in config.smsgate_offline:
        return None
    envelope = {"id": os.urandom(10).hex(), "webhookId": f"sim-{event}", "event": event,
                "deviceId": f"sim-{phone_id}", "payload": payload}
    body = json.dumps(envelope, ensure_ascii=False).encode()
    status = None
    for attempt in range(config.callback_retries + 1):
        timestamp = str(int(time.time()))  # signed afresh on every attempt, as the app does
        headers = {"Content-Type": "application/json", "X-Timestamp": timestamp,
                   "X-Signature": sign(phone.get("signing_key", ""), body, timestamp)}
        try:
            async with sim.http.post(url, data=body, headers=headers,
                                     timeout=aiohttp.ClientTimeout(total=config.callback_timeout_s)) as answer:
                status = answer.status
                await answer.read()
        except (aiohttp.ClientError, asyncio.TimeoutError):
            status = None
        if status is not None and status < 300:
            break
        await asyncio.sleep(config.callback_retry_delay_s)
    sim.smsgate.log({"phone": phone_id, "event": event, "status": status, "at": time.time()})
    return status


async def ping_loop(sim) -> None:
    """Every phone that is not offline pings every `smsgate_ping_interval_s` seconds (0: never)."""
    while True:
        interval = sim.config.smsgate_ping_interval_s
        if interval > 0:
            for phone_id in list(sim.config.smsgate_phones):
                await post_webhook(sim, phone_id, "system:ping", {"health": {"status": "pass", "checks": {}}})
        await asyncio.sleep(interval if interval > 0 else 0.5)


async def inject_received(request: web.Request) -> web.Response:
    sim = request.app[SIM]
    _phone(request)
    body = await request.json()
    received_at = body.get("received_at") or datetime.now(IST).isoformat(timespec="milliseconds")
    text = body.get("text", "")
    payload = {"messageId": hashlib.md5(text.encode()).hexdigest()[:16], "message": text,
               "phoneNumber": body["from"], "sender": body["from"], "recipient": None,
               "simNumber": body.get("sim", 1), "receivedAt": received_at}
    status = await post_webhook(sim, request.match_info["phone"], "sms:received", payload)
    return web.json_response({"status": status, "payload": payload})


async def inject_ping(request: web.Request) -> web.Response:
    sim = request.app[SIM]
    _phone(request)
    status = await post_webhook(sim, request.match_info["phone"], "system:ping",
                                {"health": {"status": "pass", "checks": {}}})
    return web.json_response({"status": status})


async def list_sends(request: web.Request) -> web.Response:
    return web.json_response({"messages": request.app[SIM].smsgate.view(), "webhooks": request.app[SIM].smsgate.webhooks})
