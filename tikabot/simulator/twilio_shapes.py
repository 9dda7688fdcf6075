"""Twilio-shaped JSON: Message and Call resources, error bodies, list pages."""

from __future__ import annotations

import time
from typing import Optional
from urllib.parse import urlencode

from aiohttp import web

from tikabot.simulator.records import CallRecord, MessageRecord

API_VERSION = "2010-04-01"

ERROR_MESSAGES = {
    20003: "Authenticate",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    20500: "An internal server error has occurred",
    21205: "Url parameter is required.",
    21211: "The 'To' number is not a valid phone number.",
    21408: "Permission to send an SMS has not been enabled for the region indicated by the 'To' number.",
    21602: "Message body is required.",
    21603: "The 'From' phone number is required.",
    21604: "A 'To' phone number is required.",
    21610: "Attempt to send to unsubscribed recipient",
    21612: "The 'To' phone number is not currently reachable via SMS.",
    21614: "'To' number is not a valid mobile number",
    21617: "The concatenated message body exceeds the 1600 character limit.",
    30001: "Queue overflow",
    30003: "Unreachable destination handset",
    30005: "Unknown destination handset",
    30006: "Landline or unreachable carrier",
    30007: "Message filtered",
    30008: "Unknown error",
    30500: "Carrier error",
}


def rfc2822(epoch: Optional[float]) -> Optional[str]:
    if epoch is None:
        return None
    return time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(epoch))


def error_message(code: int) -> str:
    return ERROR_MESSAGES.get(code, f"Error {code}")


def error_body(status: int, code: int, message: Optional[str] = None) -> dict:
    return {
        "code": code,
        "message": message or error_message(code),
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def error_response(status: int, code: int, message: Optional[str] = None) -> web.Response:
    return web.json_response(error_body(status, code, message), status=status)


def message_uri(account_sid: str, sid: str) -> str:
    return f"/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}.json"


def message_json(rec: MessageRecord, now: float) -> dict:
    status = rec.status_at(now)
    error_code = rec.error_at(now)
    sent = rec.sent_at is not None and now >= rec.sent_at
    uri = message_uri(rec.account_sid, rec.sid)
    return {
        "account_sid": rec.account_sid,
        "api_version": API_VERSION,
        "body": rec.body,
        "date_created": rfc2822(rec.created),
        "date_sent": rfc2822(rec.sent_at) if sent else None,
        "date_updated": rfc2822(min(now, rec.final_at) if sent else rec.created),
        "direction": "outbound-api",
        "error_code": error_code,
        "error_message": error_message(error_code) if error_code else None,
        "from": rec.from_,
        "messaging_service_sid": rec.messaging_service_sid,
        "num_media": "0",
        "num_segments": str(rec.num_segments),
        "price": None,
        "price_unit": "USD",
        "sid": rec.sid,
        "status": status,
        "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
        "to": rec.to,
        "uri": uri,
    }


def call_json(rec: CallRecord) -> dict:
    return {
        "account_sid": rec.account_sid,
        "answered_by": None,
        "api_version": API_VERSION,
        "caller_name": None,
        "date_created": rfc2822(rec.created),
        "date_updated": rfc2822(rec.created),
        "direction": "outbound-api",
        "duration": None,
        "end_time": None,
        "from": rec.from_,
        "from_formatted": rec.from_,
        "parent_call_sid": None,
        "phone_number_sid": None,
        "price": None,
        "price_unit": "USD",
        "sid": rec.sid,
        "start_time": None,
        "status": "queued",
        "to": rec.to,
        "to_formatted": rec.to,
        "uri": f"/{API_VERSION}/Accounts/{rec.account_sid}/Calls/{rec.sid}.json",
    }


def messages_page(account_sid: str, items: list[dict], filters: dict,
                  page: int, page_size: int, has_next: bool) -> dict:
    base = f"/{API_VERSION}/Accounts/{account_sid}/Messages.json"

    def page_uri(number: int) -> str:
        return base + "?" + urlencode({**filters, "PageSize": page_size, "Page": number})

    start = page * page_size
    return {
        "messages": items,
        "end": start + max(len(items) - 1, 0),
        "first_page_uri": page_uri(0),
        "next_page_uri": page_uri(page + 1) if has_next else None,
        "page": page,
        "page_size": page_size,
        "previous_page_uri": page_uri(page - 1) if page > 0 else None,
        "start": start,
        "uri": page_uri(page),
    }
