"""A feature phone on a USSD session, as the gateway (Africa's Talking convention) relays it."""
from __future__ import annotations

import secrets
import time

import requests

SERVICE_CODE = "*384*8282#"


class UssdPhone:
    def __init__(self, web_url: str, token: str, phone: str, http: requests.Session):
        self.url, self.token, self.phone, self.http = f"{web_url}/ussd", token, phone, http
        self.session_id = "ATUid_" + secrets.token_hex(8)
        self.inputs: list[str] = []

    def dial(self) -> tuple[int, str, float]:
        return self._send()

    def press(self, value: str) -> tuple[int, str, float]:
        self.inputs.append(value)
        return self._send()

    def _send(self) -> tuple[int, str, float]:
        form = {"sessionId": self.session_id, "serviceCode": SERVICE_CODE, "phoneNumber": self.phone,
                "networkCode": "40445", "text": "*".join(self.inputs)}
        started = time.perf_counter()
        response = self.http.post(self.url, data=form, headers={"X-USSD-Token": self.token}, timeout=30)
        return response.status_code, response.text, time.perf_counter() - started
