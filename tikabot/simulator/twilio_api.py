"""Twilio REST endpoints: Messages (create, fetch, list) and Calls (create, fetch)."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import datetime, timezone
from typing import Optional

from aiohttp import web

from tikabot.simulator import twilio_shapes as shapes
from tikabot.simulator.appkeys import SIM
from tikabot.simulator.credentials import basic_auth_is

PREFIX = "/2010-04-01/Accounts/{account_sid}"
PHONE = re.compile(r"^(?:[a-z]+:)?\+?[1-9]\d{4,14}$")
MAX_BODY = 1600


def add_routes(app: web.Application) -> None:
    app.router.add_post(PREFIX + "/Messages.json", create_message)
    app.router.add_get(PREFIX + "/Messages.json", list_messages)
    app.router.add_get(PREFIX + "/Messages/{sid}.json", fetch_message)
    app.router.add_post(PREFIX + "/Calls.json", create_call)
    app.router.add_get(PREFIX + "/Calls/{sid}.json", fetch_call)


def auth_error(request: web.Request) -> Optional[web.Response]:
    """401/20003 unless Basic auth matches; 404/20404 for another account in the path."""
    config = request.app[SIM].config
    if config.check_auth:
        if not basic_auth_is(request.headers.get("Authorization"), config.account_sid, config.auth_token):
            return shapes.error_response(401, 20003)
        if request.match_info["account_sid"] != config.account_sid:
            return shapes.error_response(404, 20404)
    return None


def form_error(form, config, need_body: bool) -> Optional[web.Response]:
    to = form.get("To")
    if not to:
        return shapes.error_response(400, 21604)
    if not form.get("From") and not (need_body and form.get("MessagingServiceSid")):
        return shapes.error_response(400, 21603)
    forced = config.recipient_errors.get(to)
    if forced is not None:
        return shapes.error_response(400, int(forced))
    if not PHONE.match(to):
        return shapes.error_response(400, 21211, f"The 'To' number {to} is not a valid phone number.")
    if need_body:
        body = form.get("Body")
        if not body and not form.get("MediaUrl"):
            return shapes.error_response(400, 21602)
        if body and len(body) > MAX_BODY:
            return shapes.error_response(400, 21617)
    elif not (form.get("Url") or form.get("Twiml") or form.get("ApplicationSid")):
        return shapes.error_response(400, 21205)
    return None


async def _create(request: web.Request, make, render, need_body: bool) -> web.Response:
    sim = request.app[SIM]
    sim.records.count("twilio_requests")
    refused = auth_error(request)
    if refused is not None:
        return refused
    config = sim.config
    if config.latency_ms:
        await asyncio.sleep(config.latency_ms / 1000)
    form = await request.post()
    refused = form_error(form, config, need_body)
    if refused is not None:
        sim.records.count("rejected")
        return refused
    fault = sim.faults.api_fault(config)
    if fault:
        sim.records.count("fault_" + fault)
    if fault == "429":
        return shapes.error_response(429, 20429)
    created = None if fault in ("500", "timeout") else make(request.match_info["account_sid"], form)
    if fault in ("timeout", "timeout-created"):
        await asyncio.sleep(config.timeout_sleep_s)
    if fault in ("500", "500-created", "timeout"):
        return shapes.error_response(500, 20500)
    return web.json_response(render(created), status=201)


async def create_message(request: web.Request) -> web.Response:
    sim = request.app[SIM]
    return await _create(request, sim.create_message,
                         lambda rec: shapes.message_json(rec, time.time()), need_body=True)


async def create_call(request: web.Request) -> web.Response:
    sim = request.app[SIM]
    return await _create(request, sim.create_call, shapes.call_json, need_body=False)


async def fetch_message(request: web.Request) -> web.Response:
    sim = request.app[SIM]
    refused = auth_error(request)
    if refused is not None:
        return refused
    record = sim.records.message(request.match_info["sid"])
    if record is None:
        return shapes.error_response(404, 20404)
    return web.json_response(shapes.message_json(record, time.time()))


async def fetch_call(request: web.Request) -> web.Response:
    sim = request.app[SIM]
    refused = auth_error(request)
    if refused is not None:
        return refused
    record = sim.records.call(request.match_info["sid"])
    if record is None:
        return shapes.error_response(404, 20404)
    return web.json_response(shapes.call_json(record))


def _parse_date(value: str, end_of_day: bool) -> float:
    """Epoch seconds for ``YYYY-MM-DD`` (start or end of that UTC day) or an ISO datetime."""
    if len(value) == 10:
        day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=timezone.utc)
        return day.timestamp() + (86400 if end_of_day else 0)
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _date_bounds(query) -> tuple[float, float]:
    low, high = float("-inf"), float("inf")
    if query.get("DateSent"):  # a day: the client sends dates as midnight datetimes
        low = _parse_date(query["DateSent"][:10], end_of_day=False)
        high = low + 86400
    if query.get("DateSent>"):
        low = max(low, _parse_date(query["DateSent>"], end_of_day=False))
    if query.get("DateSent<"):
        before = query["DateSent<"]
        high = min(high, _parse_date(before, end_of_day=True) + (len(before) != 10))
    return low, high


async def list_messages(request: web.Request) -> web.Response:
    sim = request.app[SIM]
    refused = auth_error(request)
    if refused is not None:
        return refused
    query = request.query
    try:
        low, high = _date_bounds(query)
        page = int(query.get("Page", 0))
        page_size = min(max(int(query.get("PageSize", 50)), 1), 1000)
    except ValueError:
        return shapes.error_response(400, 20001, "Invalid filter or paging parameter")
    to, from_ = query.get("To"), query.get("From")
    matching = [
        m for m in reversed(sim.records.messages())
        if (to is None or m.to == to) and (from_ is None or m.from_ == from_)
        and low <= m.date_sent() < high
    ]
    now = time.time()
    start = page * page_size
    items = [shapes.message_json(m, now) for m in matching[start:start + page_size]]
    filters = {k: query[k] for k in ("To", "From", "DateSent", "DateSent<", "DateSent>") if k in query}
    has_next = start + page_size < len(matching)
    body = shapes.messages_page(request.match_info["account_sid"], items, filters,
                                page, page_size, has_next)
    return web.json_response(body)
