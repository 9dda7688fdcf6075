"""Exotel (Indian CPaaS): DLT-compliant domestic SMS, delivery callbacks, inbound SMS on an ExoPhone,
and voice calls for the OTP fallback. Translation only.

Authentication of Exotel's requests to us: Exotel does not sign its callbacks (no HMAC header
exists), so every URL we give it (StatusCallback, the inbound SMS app's URL, the call flow's) carries
a secret `token` query parameter, EXOTEL_CALLBACK_TOKEN, compared in constant time; when
EXOTEL_CALLBACK_USER is set, HTTP basic auth written into the URL (https://user:pass@host/...) is
checked too. Use https, so the token is not readable on the way.

Outbound: every message to an Indian number needs its DLT record (`message.dlt`: entity id,
template id, header, SMS type — attached by the DLT registry); without one the send is refused as
`dlt_unregistered` and nothing reaches Exotel.
"""
from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from typing import Mapping
from urllib.parse import urlencode

from tikabot.handlers.exotel_client import (NETWORK_ERRORS, PROBE_SID, TIMEOUTS, ExotelClient, ExotelError,
                                             account_answers)
from tikabot.i18n.encoding import GSM7, encoding_of
from tikabot.core.phones import BadPhone, mask, normalise
from tikabot.core.sending import (
    ACCOUNT, FAIL, NETWORK_ERROR, RETRY, SERVER_ERROR, TIMEOUT, Accepted, ErrorKind, Outgoing, SendError,
    StatusReport, code_in, spaced_digits,
)
from tikabot.core.message import InboundMessage
from tikabot.core.safe_text import printable, storable_id

log = logging.getLogger(__name__)

CHANNEL = "sms"
ROUTE = "exotel"
MAX_BODY = 2000  # Exotel's limit for one Body
MAX_SID, MAX_SENDER = 40, 40

# One table for Exotel's HTTP statuses (send time) and DetailedStatusCode values (callbacks and the
# SMS details API), from Exotel's API reference and its SMS status glossary. Nothing else decides.
EXOTEL_ERRORS: dict[int, ErrorKind] = {
    400: ErrorKind("exotel_bad_request", FAIL),  # invalid parameters or recipient, no sender id for the body
    401: ErrorKind("authentication_failed", ACCOUNT),
    402: ErrorKind("insufficient_balance", ACCOUNT),
    403: ErrorKind("account_forbidden", ACCOUNT),  # account not active, no balance, validity expired
    404: ErrorKind("account_not_found", ACCOUNT),  # wrong account sid in the URL
    429: ErrorKind("rate_limited", RETRY),  # 200 SMS a minute per account
    500: SERVER_ERROR, 502: SERVER_ERROR, 503: SERVER_ERROR, 504: SERVER_ERROR,
    # delivery outcomes (DetailedStatusCode)
    23005: ErrorKind("dnd", FAIL),
    23010: ErrorKind("invalid_number", FAIL),
    23015: ErrorKind("filtered", FAIL),  # spam detected
    23020: ErrorKind("blacklisted", FAIL),
    23030: ErrorKind("route_unavailable", RETRY),
    23035: ErrorKind("handset_unreachable", RETRY, max_retries=3, slow=True),  # subscriber unavailable
    23060: ErrorKind("rejected", FAIL),
    23072: ErrorKind("sender_not_registered", FAIL),
    23080: ErrorKind("dlt_sender_blocked", FAIL),
    23081: ErrorKind("dlt_entity_blocked", FAIL),
    23082: ErrorKind("dlt_template_blocked", FAIL),
    23083: ErrorKind("dlt_scrubbing_failed", FAIL),
    23084: ErrorKind("dlt_consent_failed", FAIL),
    23181: ErrorKind("dlt_template_invalid", FAIL),
    23182: ErrorKind("dlt_template_not_found", FAIL),
    23183: ErrorKind("dlt_template_inactive", FAIL),
    23184: ErrorKind("dlt_template_blacklisted", FAIL),
    23185: ErrorKind("dlt_template_mismatch", FAIL),
    23186: ErrorKind("dlt_length_exceeded", FAIL),
    23281: ErrorKind("dlt_entity_not_found", FAIL),
    24010: ErrorKind("exotel_system_error", RETRY),
    24105: ErrorKind("handset_error", RETRY, max_retries=3, slow=True),
    24110: ErrorKind("operator_error", RETRY),
    24120: ErrorKind("subscriber_error", RETRY, max_retries=3, slow=True),
    24990: ErrorKind("unknown_delivery_error", RETRY, max_retries=2),
}
DND_CODE = 23005
DLT_UNREGISTERED = ErrorKind("dlt_unregistered", FAIL)
NOT_CONFIGURED = ErrorKind("exotel_not_configured", RETRY, slow=True)


def classify(code: int | None) -> ErrorKind:
    if code in EXOTEL_ERRORS:
        return EXOTEL_ERRORS[code]
    if code is not None and 500 <= code < 600:
        return SERVER_ERROR
    return ErrorKind(f"exotel_{code}", FAIL)


# DetailedStatusCode -> ours, where it says more than Status.
DETAILED = {20005: "delivered", 20006: "sent", 21010: "accepted", 21015: "accepted", 21020: "accepted"}
# Exotel's Status -> ours. Exotel's "sent" means delivered to the handset (its own glossary).
STATUSES = {"queued": "accepted", "sending": "accepted", "submitted": "accepted", "sent": "delivered",
            "failed": "undelivered", "failed_dnd": "undelivered", "failed-dnd": "undelivered"}


class BadRequest(ValueError):
    pass


# --- authentication of Exotel's requests ------------------------------------------------------------

def authorized(config, query: Mapping[str, str], basic_auth) -> bool:
    """The secret token in the URL (and basic auth, when configured), compared in constant time."""
    expected = config.exotel_callback_token
    token = query.get("token") or ""
    if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
        return False
    if config.exotel_callback_user:
        user = basic_auth.username if basic_auth else ""
        password = basic_auth.password if basic_auth else ""
        ok_user = hmac.compare_digest((user or "").encode(), config.exotel_callback_user.encode())
        ok_password = hmac.compare_digest((password or "").encode(), (config.exotel_callback_password or "").encode())
        return ok_user and ok_password
    return True


def callback_url(config, path: str, **params) -> str:
    query = urlencode({"token": config.exotel_callback_token or "", **params})
    return f"{(config.public_base_url or '').rstrip('/')}{path}?{query}"


# --- inbound ------------------------------------------------------------------------------------------

def to_message(params: Mapping[str, str]) -> InboundMessage:
    """The inbound SMS app's request (SmsSid, From, To, Date, Body) -> InboundMessage (via "exotel")."""
    sid, raw_sender, body = (params.get("SmsSid") or "").strip(), (params.get("From") or "").strip(), \
        params.get("Body") or ""
    if not sid or not raw_sender:
        raise BadRequest("SmsSid and From are required")
    if len(sid) > MAX_SID or len(raw_sender) > MAX_SENDER:
        raise BadRequest("SmsSid or From is too long")
    if len(body) > MAX_BODY:
        raise BadRequest(f"Body longer than {MAX_BODY} characters")
    try:
        sender = normalise(raw_sender)  # Exotel writes Indian numbers as 0XXXXXXXXXX
    except BadPhone:
        sender = raw_sender
    return InboundMessage(channel=CHANNEL, provider_id=sid, sender=sender, text=printable(body), via=ROUTE)


# --- status callbacks -----------------------------------------------------------------------------------

def _int(value) -> int | None:
    text = str(value if value is not None else "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


def status_of(raw_status: str | None, detailed_code: int | None) -> str | None:
    raw = (raw_status or "").strip().lower()
    if raw in ("failed", "failed_dnd", "failed-dnd"):
        return "undelivered"
    return DETAILED.get(detailed_code) or STATUSES.get(raw)


def parse_status(form: Mapping[str, str], query: Mapping[str, str]) -> StatusReport:
    sid = (form.get("SmsSid") or form.get("Sid") or "").strip()
    detailed = _int(form.get("DetailedStatusCode"))
    status = status_of(form.get("Status"), detailed)
    if not sid or status is None:
        raise BadRequest("SmsSid and a known Status are required")
    if len(sid) > MAX_SID or not storable_id(sid):
        raise BadRequest("SmsSid is too long or holds a NUL")
    message_id, attempt = _int(query.get("id")), _int(query.get("attempt"))
    if status != "undelivered":
        return StatusReport(sid, status, None, message_id, attempt, via=ROUTE)
    if detailed is None and (form.get("Status") or "").lower().replace("-", "_") == "failed_dnd":
        detailed = DND_CODE
    kind = classify(detailed) if detailed is not None else ErrorKind("unknown_delivery_error", RETRY, max_retries=2)
    return StatusReport(sid, "undelivered", None, message_id, attempt, kind=kind,
                        code=str(detailed) if detailed is not None else "unknown", via=ROUTE)


def spoken_code(custom_field: str | None) -> str | None:
    """'bn:4 8 2 9 1 3' (what the OTP call carries) -> '4 8 2 9 1 3. 4 8 2 9 1 3.', or None."""
    _, _, digits = (custom_field or "").partition(":")
    digits = digits.strip()
    if not digits or len(digits) > 40 or not all(c.isascii() and (c.isdigit() or c == " ") for c in digits):
        return None
    return f"{digits}. {digits}."


# --- sending ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DltRecord:
    """What a domestic Indian send needs (the DLT registry attaches one as `message.dlt`)."""
    entity_id: str | None
    template_id: str
    header: str | None = None  # the registered sender header; None: EXOTEL_SENDER
    sms_type: str = "transactional"  # transactional | transactional_opt_in | promotional


def domestic(recipient: str) -> bool:
    return recipient.startswith("+91")


def sms_form(config, message: Outgoing) -> dict:
    """The send_sms arguments for one message, or SendError dlt_unregistered for an Indian number
    without a DLT record."""
    dlt = getattr(message, "dlt", None)
    if domestic(message.recipient) and (dlt is None or not dlt.template_id
                                        or not (dlt.entity_id or config.exotel_dlt_entity_id)):
        raise SendError(DLT_UNREGISTERED, "dlt_unregistered", "no approved DLT template for this message")
    form = dict(from_=(dlt.header if dlt and dlt.header else None) or config.exotel_sender or "",
                to=message.recipient, body=message.body,
                encoding_type="plain" if encoding_of(message.body) == GSM7 else "unicode",
                custom_field=f"{message.id}-{message.attempt}")
    if dlt is not None:
        form.update(dlt_entity_id=dlt.entity_id or config.exotel_dlt_entity_id, dlt_template_id=dlt.template_id,
                    sms_type=dlt.sms_type)
    if config.public_base_url and config.exotel_callback_token:
        form["status_callback"] = callback_url(config, "/channels/exotel/status", id=message.id,
                                               attempt=message.attempt)
    return form


def _error(exc: Exception) -> SendError:
    if isinstance(exc, ExotelError):
        return SendError(classify(exc.status), exc.status, exc.message[:80])
    if isinstance(exc, TIMEOUTS):
        return SendError(TIMEOUT, "timeout")
    return SendError(NETWORK_ERROR, "network", type(exc).__name__)


class ExotelSender:
    """SMS (or, `voice=True`, an OTP call connected to the configured call flow, which reads out the
    code it is given in CustomField). One per worker process."""

    def __init__(self, config, voice: bool = False):
        self.config = config
        self.voice = voice
        self.client = None
        if config.exotel_account_sid and config.exotel_api_key and config.exotel_api_token:
            self.client = ExotelClient(config.exotel_account_sid, config.exotel_api_key, config.exotel_api_token,
                                       api_base=config.exotel_api_base, timeout=config.twilio_timeout)

    async def send(self, message: Outgoing) -> Accepted:
        if self.client is None:
            raise SendError(NOT_CONFIGURED, "config", "EXOTEL_ACCOUNT_SID / API key / token are not set")
        try:
            if self.voice:
                return await self._call(message)
            created = await self.client.send_sms(**sms_form(self.config, message))
        except (ExotelError, *TIMEOUTS, *NETWORK_ERRORS) as exc:
            raise _error(exc) from exc
        sid = str(created.get("Sid") or "")
        if not sid:
            raise SendError(SERVER_ERROR, "no_sid", "Exotel answered without a Sid")
        status = status_of(created.get("Status"), _int(created.get("DetailedStatusCode"))) or "accepted"
        log.info("message %s to %s accepted by Exotel", message.id, mask(message.recipient))
        return Accepted(sid, "accepted" if status == "undelivered" else status)

    async def _call(self, message: Outgoing) -> Accepted:
        code = code_in(message.body)
        if code is None or not self.config.exotel_call_flow_url:
            raise SendError(ErrorKind("voice_not_possible", FAIL), "voice", "no code in the text or no call flow")
        created = await self.client.connect_call(
            from_=message.recipient, caller_id=self.config.exotel_exophone or "",
            url=self.config.exotel_call_flow_url, custom_field=f"{message.language}:{spaced_digits(code)}",
            time_limit=120)
        return Accepted(str(created.get("Sid") or f"call-{message.id}-{message.attempt}"), "sent")

    async def probe(self) -> bool:
        """Whether the account is back, asked without sending anything (route health's probe of a
        route that is recovering): an SMS that does not exist is looked up (exotel_client.account_answers)."""
        if self.client is None:
            return False
        try:
            await self.client.get_sms(PROBE_SID)
            status, said = 200, ""
        except ExotelError as exc:
            status, said = exc.status, exc.message
        except (*TIMEOUTS, *NETWORK_ERRORS) as exc:
            status, said = None, type(exc).__name__
        answers, words = account_answers(status, said)
        if not answers:
            log.info("Exotel probe: %s", words)
        return answers

    async def find_existing(self, message: Outgoing, since,
                            exclude: frozenset[str] = frozenset()) -> Accepted | None:
        """Exotel's API looks messages up by Sid only, so an attempt whose answer we never got cannot
        be found here: its status callback (our id and attempt ride in its URL) links it instead."""
        return None

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()
