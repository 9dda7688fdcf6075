"""`tikabot phone PHONE [--ussd]`: be that phone against a running tikabot.

Each line typed is sent as an SMS from PHONE (a Twilio inbound webhook, signed with the auth token
the running app checks) or, with --ussd, as the next input of a USSD session (the first request
dials). The reply is printed (it comes as an SMS once a worker has processed the message: the
first SMS to arrive after a line is its reply), and so is every SMS the phone receives, read from
the provider simulator's records while the prompt runs. It is how a district trains its vaccinators before the
day, and how anyone tries tikabot in a minute after `tikabot up`.

Where things are: instance/up.json, written by a running `tikabot up` (web URL, simulator URL,
tokens), then the environment (TWILIO_AUTH_TOKEN, USSD_TOKEN, PUBLIC_BASE_URL); --url and --sim
override the addresses.
"""
from __future__ import annotations

import json
import os
import ssl
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import click
from twilio.request_validator import RequestValidator

from tikabot.config import Config
from tikabot.core.phones import BadPhone, normalise
from tikabot.stack.banner import read_state

TIMEOUT = 15
POLL_S = 0.3
LINGER_S = 3.0  # after the last line, SMS still arriving are printed this long
REPLY_WAIT_S = 10.0  # a reply comes as an SMS once a worker has processed the message


@dataclass(frozen=True)
class Target:
    web: str
    public: str  # the base URL signatures are computed over
    sim: str | None
    auth_token: str | None
    ussd_token: str | None
    to: str


def target(url: str | None, sim: str | None) -> Target:
    state = read_state()
    config = Config.from_env()
    web = (url or (state.web if state else None) or "http://127.0.0.1:5000").rstrip("/")
    public = (config.public_base_url or (state.public_base_url if state and not url else None) or web).rstrip("/")
    return Target(web=web, public=public, sim=(sim or (state.simulator if state else None)),
                  auth_token=(state.twilio_auth_token if state else None) or config.twilio_auth_token,
                  ussd_token=(state.ussd_token if state else None) or config.ussd_token,
                  to=config.twilio_from or "+15005550006")


NOTHING_RUNNING = ("nothing answers at {web}: start tikabot first (./run up, or tikabot up, in another "
                   "terminal), or name the running app with --url")


UNTRUSTED = ("{web} answers, but its certificate is not trusted ({why}): give the server a real certificate "
             "(certbot, README \"On a fresh server\"), or on the server itself name the app with --url http://127.0.0.1:5000")


class NotRunning(click.ClickException):
    pass


def _unreachable(web: str, exc: OSError) -> NotRunning:
    """The line for an address that does not answer, or answers with a certificate nobody trusts."""
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, ssl.SSLCertVerificationError):
        return NotRunning(UNTRUSTED.format(web=web, why=reason.verify_message or reason))
    return NotRunning(NOTHING_RUNNING.format(web=web) + f" ({reason})")


def _post(url: str, form: dict, headers: dict | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, data=urllib.parse.urlencode(form).encode(), headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")
    except OSError as exc:  # refused, reset, timed out: tikabot stopped while the prompt ran
        parts = urllib.parse.urlsplit(url)
        raise _unreachable(f"{parts.scheme}://{parts.netloc}", exc) from exc


def check_running(t: Target) -> None:
    """A clear line, not a traceback, when no tikabot answers where the prompt would send."""
    try:
        with urllib.request.urlopen(f"{t.web}/healthz", timeout=5):
            return
    except urllib.error.HTTPError:  # something answers: let the messages say what it thinks of them
        return
    except OSError as exc:
        raise _unreachable(t.web, exc) from exc


def send_sms(t: Target, phone: str, text: str) -> str:
    """Send text as an inbound SMS from phone; the reply (empty when there is none) or the error."""
    url = f"{t.web}/sms/inbound"
    form = {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": "AC" + "0" * 32, "From": phone, "To": t.to,
            "Body": text, "NumMedia": "0"}
    signature = RequestValidator(t.auth_token or "").compute_signature(f"{t.public}/sms/inbound", form)
    status, body = _post(url, form, {"X-Twilio-Signature": signature})
    if status != 200:
        return f"[HTTP {status}] {body.strip()}"
    found = ET.fromstring(body.encode()).find("Message")
    return found.text or "" if found is not None else ""


class UssdSession:
    def __init__(self, t: Target, phone: str):
        self.t, self.phone = t, phone
        self.id, self.inputs = None, []

    def send(self, value: str | None) -> tuple[str, bool]:
        """Dial (value None) or send the next input; (screen, ended)."""
        if value is None or self.id is None:
            self.id, self.inputs = "ATUid_" + uuid.uuid4().hex[:16], []
        if value is not None:
            self.inputs.append(value)
        form = {"sessionId": self.id, "serviceCode": "*384*1234#", "phoneNumber": self.phone,
                "networkCode": "40410", "text": "*".join(self.inputs)}
        status, body = _post(f"{self.t.web}/ussd", form, {"X-USSD-Token": self.t.ussd_token or ""})
        if status != 200:
            self.id = None
            return f"[HTTP {status}] {body.strip()}", True
        ended = body.startswith("END ")
        if ended:
            self.id = None
        return body[4:], ended


class Inbox:
    """The SMS the simulator received for one phone, printed as they come."""

    def __init__(self, sim: str | None, phone: str, out):
        self.sim, self.phone, self.out = sim, phone, out
        self.seen: set[str] = set()
        self.stop = threading.Event()
        self.lock = threading.Lock()
        if sim:
            self.seen = {m["sid"] for m in self._fetch()}

    def _fetch(self) -> list[dict]:
        query = urllib.parse.urlencode({"to": self.phone})
        try:
            with urllib.request.urlopen(f"{self.sim}/_sim/messages?{query}", timeout=TIMEOUT) as response:
                return json.loads(response.read())
        except (OSError, ValueError):
            return []

    awaiting = 0  # replies still expected to lines sent: the next SMS that arrive are those

    def check(self) -> None:
        with self.lock:
            fresh = [m for m in self._fetch() if m["sid"] not in self.seen]
            for message in fresh:
                self.seen.add(message["sid"])
                label = "reply" if self.awaiting else "SMS received"
                self.awaiting = max(0, self.awaiting - 1)
                click.echo(f"{label}: {message['body']}", file=self.out)
            self.out.flush()

    def await_reply(self, timeout: float = REPLY_WAIT_S) -> bool:
        """The message was kept; its reply comes as an SMS once a worker has processed it."""
        with self.lock:
            self.awaiting += 1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check()
            with self.lock:
                if not self.awaiting:
                    return True
            time.sleep(POLL_S / 3)
        with self.lock:
            self.awaiting = 0
        return False

    def say(self, line: str) -> None:
        with self.lock:
            click.echo(line, file=self.out)
            self.out.flush()

    def run(self) -> None:
        while not self.stop.wait(POLL_S):
            self.check()


def run(phone_text: str, ussd: bool, url: str | None, sim: str | None, out=None) -> int:
    out = out or sys.stdout
    try:
        phone = normalise(phone_text)
    except BadPhone as exc:
        raise click.BadParameter(str(exc), param_hint="PHONE") from exc
    t = target(url, sim)
    check_running(t)
    inbox = Inbox(t.sim, phone, out)
    channel = "USSD" if ussd else "SMS"
    inbox.say(f"tikabot phone {phone}: {channel} to {t.web}" + ("" if t.sim else " (no simulator: SMS received are not shown)")
              + ". Type a message and press Enter; Ctrl-D to stop.")
    if not ussd and not t.auth_token:
        inbox.say("No Twilio auth token (start tikabot up, or set TWILIO_AUTH_TOKEN): the app will refuse the messages.")
    poller = threading.Thread(target=inbox.run, daemon=True, name="inbox") if t.sim else None
    if poller:
        poller.start()
    session = UssdSession(t, phone) if ussd else None
    if session:
        screen, _ = session.send(None)
        inbox.say(screen)
    prompt = os.isatty(0)
    try:
        while True:
            if prompt:
                click.echo("> ", nl=False, file=out)
            line = sys.stdin.readline()
            if not line:
                break
            text = line.rstrip("\r\n")
            if session:
                screen, ended = session.send(None if session.id is None and text == "" else text)
                inbox.say(screen + ("\n(session ended: press Enter to dial again)" if ended else ""))
            elif text.strip():
                reply = send_sms(t, phone, text)
                if reply.startswith("[HTTP"):
                    inbox.say(reply)
                elif reply:  # a reply in the webhook's answer
                    inbox.say(f"reply: {reply}")
                elif not (t.sim and inbox.await_reply()):
                    inbox.say("(no reply)")
    except KeyboardInterrupt:
        pass
    finally:
        inbox.stop.set()
        if poller:
            poller.join()
            for _ in range(int(LINGER_S / POLL_S)):  # the SMS still on their way after the last line
                time.sleep(POLL_S)
                inbox.check()
    return 0


@click.command("phone")
@click.argument("phone_number")
@click.option("--ussd", is_flag=True, help="Use the USSD menus instead of SMS.")
@click.option("--url", default=None, help="The running tikabot's web URL (default: from tikabot up, else http://127.0.0.1:5000).")
@click.option("--sim", default=None, help="The provider simulator's URL, to show the SMS the phone receives.")
@click.option("--telegram", is_flag=True,
              help="PHONE_NUMBER is a Telegram user id: chat with the coordinator bot tikabot up runs on the simulator.")
def phone(phone_number: str, ussd: bool, url: str | None, sim: str | None, telegram: bool) -> None:
    """Act as PHONE_NUMBER against a running tikabot: send SMS (or USSD inputs), see replies and SMS received.

    \b
    With --telegram, be a coordinator in Telegram instead (the sample district's is 100007):
      tikabot phone --telegram 100007
    """
    if telegram:
        from tikabot.cli import telegram_chat

        if not phone_number.isdigit():
            raise click.BadParameter("a Telegram user id is a number, e.g. 100007", param_hint="PHONE_NUMBER")
        state = read_state()
        sys.exit(telegram_chat.run(int(phone_number), sim or (state.simulator if state else None)))
    sys.exit(run(phone_number, ussd, url, sim))
