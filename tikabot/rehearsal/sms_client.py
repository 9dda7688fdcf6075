"""Sends inbound SMS to the web app exactly as Twilio would: form-encoded and signed."""
from __future__ import annotations

import secrets
import time
from xml.etree import ElementTree

import requests
from twilio.request_validator import RequestValidator


class SignedSms:
    def __init__(self, web_url: str, auth_token: str, account_sid: str, our_number: str):
        self.url = f"{web_url}/sms/inbound"
        self.validator = RequestValidator(auth_token)
        self.account_sid = account_sid
        self.our_number = our_number
        self.http = requests.Session()

    def payload(self, sender: str, body: str, sid: str | None = None) -> dict[str, str]:
        return {"MessageSid": sid or "SM" + secrets.token_hex(16), "AccountSid": self.account_sid,
                "From": sender, "To": self.our_number, "Body": body, "NumMedia": "0",
                "NumSegments": "1", "SmsStatus": "received", "ApiVersion": "2010-04-01",
                "FromCountry": "IN"}

    def send(self, params: dict[str, str]) -> tuple[int, str, float]:
        """POST one message; returns (HTTP status, reply text, seconds taken)."""
        signature = self.validator.compute_signature(self.url, params)
        started = time.perf_counter()
        response = self.http.post(self.url, data=params, headers={"X-Twilio-Signature": signature}, timeout=30)
        return response.status_code, reply_text(response.text), time.perf_counter() - started

    def close(self) -> None:
        self.http.close()


def reply_text(twiml: str) -> str:
    try:
        root = ElementTree.fromstring(twiml)
    except ElementTree.ParseError:
        return ""
    return " ".join((m.text or "") for m in root.iter("Message"))
