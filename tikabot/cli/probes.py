"""`tikabot channels` asks each gateway phone and each Exotel account it shows whether it answers.

One short HTTP request each, with the credentials the workers use (hand-written on urllib: one GET
needs no client library). A phone answers SMS Gateway for Android's `GET /health`; an Exotel
account is asked for an SMS that does not exist: "SMS not found" (404) means the account answers
and takes these credentials, 401/403 that it refuses them, anything else that it is unreachable.
Nothing here is sent to anyone, and no secret is printed.
"""
from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request

from tikabot.handlers.exotel_client import DEFAULT_API_BASE, PROBE_SID, account_answers

TIMEOUT_S = 3.0


def _get(url: str, username: str, password: str) -> tuple[int | None, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    request = urllib.request.Request(url, headers={"Authorization": f"Basic {token}"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            return response.status, response.read(2000).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(2000).decode("utf-8", "replace")
    except OSError as exc:
        return None, str(getattr(exc, "reason", exc))


def phone(gateway) -> tuple[bool, str]:
    """(answers, words) for one gateway phone (config.GatewayPhone)."""
    status, body = _get(f"{gateway.url.rstrip('/')}/health", gateway.username, gateway.password)
    if status is None:
        return False, f"down: does not answer ({body})"
    if status in (401, 403):
        return False, f"down: refuses the username and password (HTTP {status})"
    if status != 200:
        return False, f"down: answers HTTP {status}"
    try:
        health = json.loads(body).get("status", "pass")
    except (ValueError, AttributeError):
        health = "pass"
    return health != "fail", "answers" if health == "pass" else f"answers, reports {health}"


def exotel_account(config) -> tuple[bool, str]:
    base = (config.exotel_api_base or DEFAULT_API_BASE).rstrip("/")
    url = f"{base}/v1/Accounts/{config.exotel_account_sid}/SMS/Messages/{PROBE_SID}.json"
    status, body = _get(url, config.exotel_api_key or "", config.exotel_api_token or "")
    return account_answers(status, body)
