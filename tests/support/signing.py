"""Requests signed (or authenticated) the way each provider does it, and the way the product checks it.

- Twilio: X-Twilio-Signature, twilio's own RequestValidator over the public URL and the form.
- SMS Gateway for Android: X-Signature = HMAC-SHA256(signing key, body + X-Timestamp), hex.
- Exotel: no signature; the secret token rides in the URL (?token=), basic auth when configured.
- Africa's Talking USSD: the shared USSD token as ?token= or the X-USSD-Token header.
- Telegram: the secret registered with setWebhook, in X-Telegram-Bot-Api-Secret-Token.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import time

from twilio.request_validator import RequestValidator

from tests.support.credentials import EXOTEL_CALLBACK_TOKEN, PUBLIC_BASE_URL, TEST_AUTH_TOKEN, USSD_TOKEN


TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


# --- Twilio ---------------------------------------------------------------------------------------

def twilio_signature(url: str, params: dict, token: str = TEST_AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


def twilio_headers(path: str, params: dict, token: str = TEST_AUTH_TOKEN, base: str = PUBLIC_BASE_URL) -> dict:
    """The header Twilio sends for a request to base + path (path with its query, if any)."""
    return {"X-Twilio-Signature": twilio_signature(base + path, params, token)}


def twilio_post(client, path: str, params: dict, token: str = TEST_AUTH_TOKEN, base: str = PUBLIC_BASE_URL):
    """POST a form to the Flask test client as Twilio would, signed over base + path."""
    return client.post(path, data=params, headers=twilio_headers(path, params, token, base))


# --- SMS Gateway for Android ----------------------------------------------------------------------

def smsgate_signature(key: str, body: bytes, timestamp: str) -> str:
    return hmac.new(key.encode(), body + timestamp.encode(), hashlib.sha256).hexdigest()


def smsgate_headers(body: bytes, key: str, at: float | None = None, stamp: str | None = None) -> dict:
    """The headers the app sends with a webhook body, signed at `at` (now when None); `stamp` sends
    that X-Timestamp text as it is (a hostile one)."""
    timestamp = stamp if stamp is not None else str(int(time.time() if at is None else at))
    return {"Content-Type": "application/json", "X-Timestamp": timestamp,
            "X-Signature": smsgate_signature(key, body, timestamp)}


# --- Exotel ---------------------------------------------------------------------------------------

def exotel_query(token: str | None = EXOTEL_CALLBACK_TOKEN, **params) -> dict:
    """The query string of the URL Exotel was given (token None: a request without one)."""
    return {**({"token": token} if token is not None else {}), **params}


def basic_auth(user: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


# --- Africa's Talking USSD ------------------------------------------------------------------------

def ussd_path(token: str | None = USSD_TOKEN) -> str:
    return "/ussd" + (f"?token={token}" if token is not None else "")


def ussd_headers(token: str = USSD_TOKEN) -> dict:
    return {"X-USSD-Token": token}


# --- Telegram -------------------------------------------------------------------------------------

def telegram_headers(secret: str | None) -> dict:
    return {"Content-Type": "application/json", **({TELEGRAM_SECRET_HEADER: secret} if secret is not None else {})}
