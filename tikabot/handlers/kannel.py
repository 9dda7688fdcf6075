"""Kannel (the open-source SMS gateway): SMPP to any operator or aggregator through a district's own
bearerbox and smsbox. Translation only.

Outbound: smsbox's `GET /cgi-bin/sendsms` (Kannel user guide, "Sending SMS via HTTP"). Text that
GSM-7 can carry goes as UTF-8 with `charset=UTF-8`; anything else (one Bengali or Hindi letter) as
its UTF-16BE bytes with `coding=2&charset=UTF-16BE`, which Kannel hands to the SMSC as UCS-2 as it
is. Every message carries a `dlr-url` to us with our message id, the attempt and the secret token,
and `dlr-mask=27` (1 delivered to the phone, 2 not delivered to it, 8 accepted by the SMSC, 16
refused by the SMSC). sendsms answers `202 0: Accepted for delivery` and gives no id of its own, so
the provider id is ours (`kannel-<id>-<attempt>`) and the report finds the row by it.

DLT ids over SMPP: aggregators take them as optional TLVs whose tags differ; tikabot passes the
entity and template ids as Kannel `meta-data` (`?smpp?PE_ID=...&TEMPLATE_ID=...`), which Kannel
sends as the TLVs its `smpp-tlv` groups name (see the README's sample kannel.conf).

Inbound: a `group = sms-service` (keyword default, catch-all, max-messages 0) whose get-url calls
`/channels/kannel/inbound` with the token, Kannel's message id (`%I`), sender (`%p`), the raw body
(`%b`), coding (`%c`) and charset (`%C`). Kannel signs nothing: the token in the URLs we give it,
KANNEL_CALLBACK_TOKEN, is compared in constant time.
"""
from __future__ import annotations

import asyncio
import hmac
import logging
from typing import Mapping
from urllib.parse import parse_qs, quote, urlencode

import aiohttp
from yarl import URL

from tikabot.core.message import InboundMessage
from tikabot.core.phones import BadPhone, mask, normalise
from tikabot.core.safe_text import printable, storable_id
from tikabot.core.sending import (
    ACCOUNT, FAIL, NETWORK_ERROR, RETRY, SERVER_ERROR, TIMEOUT, Accepted, ErrorKind, Outgoing, SendError,
    StatusReport,
)
from tikabot.i18n.encoding import GSM7, encoding_of

log = logging.getLogger(__name__)

CHANNEL = "sms"
ROUTE = "kannel"
DLR_MASK = 27  # 1 + 2 + 8 + 16: final reports from the phone's operator and the SMSC's own answer
MAX_BODY = 2000
MAX_ID, MAX_SENDER = 57, 40  # "kannel:" + the id fits the inbox's 64

# Kannel's answers and reports, one table. "http:<status>" is sendsms's answer (smsbox.c:
# 202 accepted or queued, 400 a bad request, 403 refused credentials or source address, 503 a
# temporary failure); "dlr:<value>" a delivery report's %d.
KANNEL_ERRORS: dict[str, ErrorKind] = {
    "http:400": ErrorKind("kannel_bad_request", FAIL),  # missing receiver, text too long, bad charset
    "http:403": ErrorKind("kannel_auth_failed", ACCOUNT),  # sendsms-user or user-allow-ip wrong
    "http:404": ErrorKind("kannel_not_sendsms", ACCOUNT),  # KANNEL_SENDSMS_URL is not smsbox's sendsms
    "http:500": SERVER_ERROR,
    "http:503": ErrorKind("kannel_busy", RETRY),  # "Temporal failure, try again later"
    "dlr:2": ErrorKind("not_delivered_to_phone", RETRY, max_retries=2, slow=True),  # phone off, out of reach
    "dlr:16": ErrorKind("smsc_rejected", FAIL),  # the operator's SMSC refused it (DLT, DND, bad number)
    "unreachable": ErrorKind("kannel_unreachable", RETRY),  # smsbox refused the connection: nothing sent
}
NOT_CONFIGURED = ErrorKind("kannel_not_configured", RETRY, slow=True)

# A report's %d -> our status. 4 (queued at the SMSC) and 8 (accepted by it) both mean the operator
# has the message: "sent".
STATUSES = {1: "delivered", 2: "undelivered", 4: "sent", 8: "sent", 16: "undelivered"}


class BadRequest(ValueError):
    pass


def classify(key: str) -> ErrorKind:
    if key in KANNEL_ERRORS:
        return KANNEL_ERRORS[key]
    if key.startswith("http:5"):
        return SERVER_ERROR
    return ErrorKind(f"kannel_{key.replace(':', '_')}", FAIL)


# --- authentication of Kannel's requests ----------------------------------------------------------

def authorized(config, token: str | None) -> bool:
    expected = config.kannel_callback_token
    return bool(expected) and hmac.compare_digest((token or "").encode(), expected.encode())


def _raw_query(query_string: bytes) -> dict[str, bytes]:
    """The query's values as the bytes Kannel escaped (a UTF-16BE body is no UTF-8 text)."""
    pairs = parse_qs(query_string.decode("ascii", "replace"), keep_blank_values=True, encoding="latin-1")
    return {key: values[0].encode("latin-1") for key, values in pairs.items()}


def token_of(query_string: bytes) -> str:
    return _raw_query(query_string).get("token", b"").decode("latin-1")


# --- inbound ------------------------------------------------------------------------------------------

def decode_body(raw: bytes, coding: str, charset: str) -> str:
    """%b with %c/%C -> text: coding 2 is UTF-16BE; else the charset Kannel names (UTF-8 by default)."""
    name = "utf-16-be" if coding.strip() == "2" else (charset.strip() or "utf-8")
    try:
        return raw.decode(name)
    except (LookupError, UnicodeDecodeError):
        raise BadRequest(f"text is not valid {name} (coding {coding or 'unset'})") from None


def to_message(query_string: bytes) -> InboundMessage:
    """The sms-service's get-url (id, from, text, coding, charset) -> InboundMessage (via "kannel")."""
    values = _raw_query(query_string)
    ident = values.get("id", b"").decode("latin-1").strip()
    raw_sender = values.get("from", b"").decode("latin-1").strip()
    if not ident or not raw_sender:
        raise BadRequest("id and from are required (get-url ...&id=%I&from=%p&text=%b&coding=%c&charset=%C)")
    if len(ident) > MAX_ID or len(raw_sender) > MAX_SENDER:
        raise BadRequest("id or from is too long")
    if not storable_id(ident):
        raise BadRequest("id holds a NUL")
    raw = values.get("text", b"")
    if len(raw) > 4 * MAX_BODY:
        raise BadRequest(f"text longer than {MAX_BODY} characters")
    text = decode_body(raw, values.get("coding", b"").decode("latin-1"),
                       values.get("charset", b"").decode("latin-1"))
    digits = raw_sender.lstrip("+")
    try:  # SMSCs write Indian numbers as 91XXXXXXXXXX or 10 digits
        sender = normalise("+" + digits if len(digits) == 12 and digits.startswith("91") else raw_sender)
    except BadPhone:
        sender = raw_sender
    return InboundMessage(channel=CHANNEL, provider_id=f"kannel:{ident}", sender=sender, text=printable(text),
                          via=ROUTE)


# --- delivery reports -----------------------------------------------------------------------------

def _int(value) -> int | None:
    text = str(value if value is not None else "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


def provider_id(message_id: int, attempt: int) -> str:
    return f"kannel-{message_id}-{attempt}"


def parse_report(query: Mapping[str, str]) -> StatusReport:
    """The dlr-url's query (id, attempt, status=%d, answer=%A) -> StatusReport."""
    message_id, attempt, value = _int(query.get("id")), _int(query.get("attempt")), _int(query.get("status"))
    if message_id is None or attempt is None or value not in STATUSES:
        raise BadRequest("id, attempt and a known status (%d: 1, 2, 4, 8 or 16) are required")
    status = STATUSES[value]
    pid = provider_id(message_id, attempt)
    if status != "undelivered":
        return StatusReport(pid, status, None, message_id, attempt, via=ROUTE)
    return StatusReport(pid, status, None, message_id, attempt, kind=classify(f"dlr:{value}"), code=f"dlr{value}",
                        via=ROUTE)


# --- sending ----------------------------------------------------------------------------------------

def dlr_url(config, message: Outgoing) -> str:
    """Our report URL with Kannel's escapes left for Kannel to fill (%d the report, %A the SMSC's answer)."""
    ours = urlencode({"token": config.kannel_callback_token or "", "id": message.id, "attempt": message.attempt})
    return f"{(config.public_base_url or '').rstrip('/')}/channels/kannel/dlr?{ours}&status=%d&answer=%A"


def sendsms_query(config, message: Outgoing) -> str:
    """The sendsms query string for one message, escaped by us (a UTF-16BE body is bytes, not text)."""
    dlt = getattr(message, "dlt", None)
    sender = (dlt.header if dlt is not None and getattr(dlt, "header", None) else None) or config.kannel_from or ""
    unicode = encoding_of(message.body) != GSM7
    body = message.body.encode("utf-16-be" if unicode else "utf-8")
    parts = [("username", config.kannel_username or ""), ("password", config.kannel_password or ""),
             ("from", sender), ("to", message.recipient.lstrip("+")), ("text", body),
             ("coding", "2" if unicode else "0"), ("charset", "UTF-16BE" if unicode else "UTF-8")]
    if config.public_base_url and config.kannel_callback_token:
        parts += [("dlr-mask", str(DLR_MASK)), ("dlr-url", dlr_url(config, message))]
    if dlt is not None and getattr(dlt, "template_id", None):
        parts.append(("meta-data", "?smpp?" + urlencode({"PE_ID": dlt.entity_id or "",
                                                         "TEMPLATE_ID": dlt.template_id})))
    return "&".join(f"{key}={quote(value, safe='')}" for key, value in parts)


def answer_error(status: int, text: str) -> SendError:
    return SendError(classify(f"http:{status}"), status, text.strip()[:80])


class KannelSender:
    """One per worker process: sendsms over one aiohttp session."""

    def __init__(self, config):
        self.config = config
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.config.kannel_timeout))
        return self._session

    async def send(self, message: Outgoing) -> Accepted:
        if not self.config.kannel_sendsms_url:
            raise SendError(NOT_CONFIGURED, "config", "KANNEL_SENDSMS_URL is not set")
        url = f"{self.config.kannel_sendsms_url}?{sendsms_query(self.config, message)}"
        try:
            async with self._open().get(URL(url, encoded=True)) as answer:
                text, status = await answer.text(errors="replace"), answer.status
        except aiohttp.ClientConnectorError as exc:
            raise SendError(KANNEL_ERRORS["unreachable"], "refused",
                            f"smsbox at {self.config.kannel_sendsms_url} is not answering ({exc.os_error})") from exc
        except (asyncio.TimeoutError, TimeoutError) as exc:
            raise SendError(TIMEOUT, "timeout") from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise SendError(NETWORK_ERROR, "network", type(exc).__name__) from exc
        if status != 202:
            raise answer_error(status, text)
        log.info("message %s to %s accepted by Kannel: %s", message.id, mask(message.recipient), text.strip()[:40])
        return Accepted(provider_id(message.id, message.attempt), "accepted")

    async def probe(self) -> bool:
        """Whether smsbox is back, asked without sending anything (route health's probe of a route
        that is recovering): sendsms with our credentials and no receiver. smsbox checks the
        sendsms-user first (403 when it refuses us) and then answers 400 "Missing receiver number"
        (Kannel's smsbox.c); that 400 says it listens and takes our credentials. A refused or
        dropped connection, a timeout or any other answer: not back. smsbox checks the receiver
        before it hands anything to bearerbox, so a bearerbox that is gone shows only when the
        first message is tried (503, retried)."""
        if not self.config.kannel_sendsms_url:
            return False
        query = "&".join(f"{key}={quote(value, safe='')}" for key, value in (
            ("username", self.config.kannel_username or ""), ("password", self.config.kannel_password or "")))
        try:
            async with self._open().get(URL(f"{self.config.kannel_sendsms_url}?{query}", encoded=True)) as answer:
                text, status = await answer.text(errors="replace"), answer.status
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError, TimeoutError):
            return False
        back = status == 400 and "receiver" in text.lower()
        if not back:
            log.info("Kannel probe: smsbox answered %s %s", status, text.strip()[:60])
        return back

    async def find_existing(self, message: Outgoing, since,
                            exclude: frozenset[str] = frozenset()) -> Accepted | None:
        """sendsms has no look-up: an attempt whose answer was lost is linked by its report (our id and
        attempt ride in the dlr-url), as for Exotel."""
        return None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
