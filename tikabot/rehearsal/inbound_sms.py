"""People's SMS reaching tikabot by the route they text: Twilio's signed webhook, a gateway phone
receiving it (the simulator posts sms:received, signed, to /channels/smsgate), Exotel's inbound
SMS app calling our URL, MSDG forwarding a C-DAC pull SMS (from its allowed source, with the URL's
token, the state's keyword before the text), or a Kannel sms-service's get-url (with its token). Same interface as SignedSms, so the day's script does not change."""
from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

import requests

from tikabot.rehearsal.channels import Channels
from tikabot.rehearsal.sms_client import SignedSms

IST = timezone(timedelta(hours=5, minutes=30))


@dataclass(frozen=True)
class Sms:
    """One SMS as its route delivers it; posting it again is the provider retrying the same one."""
    route: str
    params: dict
    sender: str = ""
    body: str = ""


class RoutedSms:
    def __init__(self, twilio: SignedSms, channels: Channels, sim_url: str, web_url: str, staff: dict[str, str],
                 exophone: str, exotel_token: str, cdac_url: str = "", cdac_keyword: str = "",
                 kannel_url: str = ""):
        """staff: each staff phone number -> the gateway phone it texts (its block's)."""
        self.twilio, self.channels, self.sim_url, self.staff = twilio, channels, sim_url, staff
        self.url = twilio.url  # the web app's address, as the day's USSD client finds it
        self.first_phone = next(iter(staff.values()), "phone1")  # beneficiaries texting a gateway phone
        self.exophone = exophone
        self.exotel_url = f"{web_url}/channels/exotel/inbound?{urlencode({'token': exotel_token})}"
        self.cdac_url, self.cdac_keyword, self.kannel_url = cdac_url, cdac_keyword, kannel_url
        self.down: set[str] = set()  # routes people cannot text now (a gateway phone switched off)
        self.http = requests.Session()
        self.received: dict[str, int] = {}  # route -> SMS posted on it
        self._lock = threading.Lock()

    def payload(self, sender: str, body: str, sid: str | None = None) -> Sms:
        route = self.channels.inbound_route(sender in self.staff, self.down)
        if route == "android":
            received_at = datetime.now(IST).isoformat(timespec="milliseconds")
            phone = self.staff.get(sender, self.first_phone)
            return Sms(route, {"phone": phone, "from": sender, "text": body, "received_at": received_at}, sender, body)
        if route == "exotel":
            return Sms(route, {"sid": sid or secrets.token_hex(16), "from": sender, "to": self.exophone,
                               "body": body, "url": self.exotel_url}, sender, body)
        if route == "cdac":  # texted to the state's short code, the keyword first, as MSDG asks; the time
            # stamp is the SMS's own, so MSDG calling again with it is the same SMS (milliseconds: two
            # UNDOs a vaccinator sends within a second are two SMS)
            stamp = datetime.now(IST).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
            return Sms(route, {"from": sender, "body": f"{self.cdac_keyword} {body}", "url": self.cdac_url,
                               "time": stamp}, sender, body)
        if route == "kannel":
            return Sms(route, {"id": sid or secrets.token_hex(16), "from": sender, "body": body,
                               "url": self.kannel_url}, sender, body)
        return Sms("twilio", self.twilio.payload(sender, body, sid), sender, body)

    def send(self, sms: Sms) -> tuple[int, str, float]:
        if sms.route in self.down:  # the phone went off since this SMS was written: the person texts the next
            sms = self.payload(sms.sender, sms.body)
        with self._lock:
            self.received[sms.route] = self.received.get(sms.route, 0) + 1
        if sms.route == "twilio":
            return self.twilio.send(sms.params)
        started = time.perf_counter()
        if sms.route == "android":
            url = f"{self.sim_url}/_sim/smsgate/{sms.params['phone']}/receive"
        else:  # exotel, cdac, kannel: the simulator plays the provider calling our URL
            url = f"{self.sim_url}/_sim/{sms.route}/receive"
        answer = self.http.post(url, json=sms.params, timeout=30)
        status = answer.json().get("status") if answer.status_code == 200 else answer.status_code
        return int(status or 0), "", time.perf_counter() - started

    def close(self) -> None:
        self.twilio.close()
        self.http.close()
