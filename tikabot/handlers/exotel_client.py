"""A small client for Exotel's v1 REST API (SMS send, SMS details, voice Connect), on aiohttp.

Exotel keeps no maintained official Python client, so this is the least that tikabot needs, in the
API's own terms: form-encoded POSTs to https://<api base>/v1/Accounts/<sid>/..., `.json` appended
for JSON answers, HTTP Basic auth with the API key and token. A non-2xx answer raises ExotelError
with the HTTP status and whatever the body's RestException said; network failures are aiohttp's or
asyncio's own exceptions.
"""
from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

DEFAULT_API_BASE = "https://api.exotel.com"  # Singapore cluster; Mumbai is https://api.in.exotel.com


PROBE_SID = "tikabot-probe"  # an SMS that does not exist: looking it up asks the account, sends nothing


def account_answers(status: int | None, said: str) -> tuple[bool, str]:
    """(answers, words): what looking up PROBE_SID says of the account. "SMS not found" (404) means
    it answers and takes our API key; 401/403 that it refuses the key or is not active; a 404 naming
    the account that there is no such account; no answer or anything else that it is unreachable."""
    if status is None:
        return False, f"down: does not answer ({said})"
    if status in (401, 403):
        return False, f"down: refuses the API key and token, or the account is not active (HTTP {status})"
    if status == 404 and "account" in said.lower() and "sms not found" not in said.lower():
        return False, "down: no such account (check EXOTEL_ACCOUNT_SID and EXOTEL_API_BASE)"
    if status in (200, 404):
        return True, "answers and takes the API key"
    return False, f"down: answers HTTP {status}"


class ExotelError(Exception):
    def __init__(self, status: int, message: str = "", code: str | None = None):
        super().__init__(f"HTTP {status}: {message}" if message else f"HTTP {status}")
        self.status = status
        self.message = message
        self.code = code


def _rest_exception(text: str) -> tuple[str, str | None]:
    try:
        body = json.loads(text)
    except ValueError:
        return text[:120], None
    found = body.get("RestException") if isinstance(body, dict) else None
    if not isinstance(found, dict):
        return "", None
    code = found.get("Code")
    return str(found.get("Message") or "")[:120], str(code) if code is not None else None


class ExotelClient:
    def __init__(self, account_sid: str, api_key: str, api_token: str, api_base: str = DEFAULT_API_BASE,
                 timeout: float = 10.0):
        self.account_sid = account_sid
        self.auth = aiohttp.encode_basic_auth(api_key, api_token)
        self.base = f"{api_base.rstrip('/')}/v1/Accounts/{account_sid}"
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        return self._session

    async def _request(self, method: str, path: str, data: dict[str, str] | None = None) -> dict[str, Any]:
        async with self._open().request(method, self.base + path, data=data,
                                        headers={"Authorization": self.auth, "Accept": "application/json"}) as answer:
            text = await answer.text()
            status = answer.status
        if status >= 300:
            message, code = _rest_exception(text)
            raise ExotelError(status, message, code)
        try:
            return json.loads(text)
        except ValueError:
            raise ExotelError(502, "answer is not JSON") from None

    async def send_sms(self, *, from_: str, to: str, body: str, dlt_entity_id: str | None = None,
                       dlt_template_id: str | None = None, sms_type: str | None = None,
                       encoding_type: str | None = None, status_callback: str | None = None,
                       custom_field: str | None = None) -> dict[str, Any]:
        """POST /Sms/send.json -> the SMSMessage object (Sid, Status, DetailedStatusCode, ...)."""
        form = {"From": from_, "To": to, "Body": body, "DltEntityId": dlt_entity_id,
                "DltTemplateId": dlt_template_id, "SmsType": sms_type, "EncodingType": encoding_type,
                "StatusCallback": status_callback, "CustomField": custom_field}
        answer = await self._request("POST", "/Sms/send.json", {k: v for k, v in form.items() if v})
        return answer.get("SMSMessage") or {}

    async def get_sms(self, sms_sid: str) -> dict[str, Any]:
        """GET /SMS/Messages/<sid>.json -> the SMSMessage object."""
        answer = await self._request("GET", f"/SMS/Messages/{sms_sid}.json")
        return answer.get("SMSMessage") or {}

    async def connect_call(self, *, from_: str, caller_id: str, url: str, custom_field: str | None = None,
                           status_callback: str | None = None, time_limit: int | None = None) -> dict[str, Any]:
        """POST /Calls/connect.json: call `from_` (the beneficiary) from the ExoPhone and connect the
        call to a call flow (`url`, http://my.exotel.com/<sid>/exoml/start_voice/<app id>)."""
        form = {"From": from_, "CallerId": caller_id, "Url": url, "CustomField": custom_field,
                "StatusCallback": status_callback, "TimeLimit": str(time_limit) if time_limit else None}
        answer = await self._request("POST", "/Calls/connect.json", {k: v for k, v in form.items() if v})
        return answer.get("Call") or {}

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


NETWORK_ERRORS = (aiohttp.ClientError, OSError)
TIMEOUTS = (asyncio.TimeoutError, TimeoutError)
