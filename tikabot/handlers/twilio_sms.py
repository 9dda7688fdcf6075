"""Twilio SMS and voice, send side: one message out, and status callbacks translated.

Only translation lives here: our message -> the official client's call, Twilio's answers and
error codes -> named outcomes. Retry timing, leases and the database belong to tikabot/queue/.
"""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from html import escape
from urllib.parse import urlencode

import aiohttp
from twilio.base.exceptions import TwilioException, TwilioRestException

from tikabot.handlers.twilio_client import close_async_client, make_async_client
from tikabot.core.sending import (
    ACCOUNT, FAIL, NETWORK_ERROR, RETRY, SERVER_ERROR, TIMEOUT, UNKNOWN, Accepted, ErrorKind, Outgoing,
    SendError, StatusReport,
)
from tikabot.core.safe_text import storable_id

ROUTE = "twilio"  # its status callbacks speak for what this route carried

# CONTRACT §8 and Twilio's own wording. One table; nothing else decides retryability.
TWILIO_ERRORS: dict[int, ErrorKind] = {
    429: ErrorKind("rate_limited", RETRY),
    20429: ErrorKind("rate_limited", RETRY),
    21611: ErrorKind("sender_queue_full", RETRY, slow=True),
    30001: ErrorKind("queue_overflow", RETRY, slow=True),
    30003: ErrorKind("handset_unreachable", RETRY, max_retries=3, slow=True),
    30008: ErrorKind("unknown_delivery_error", RETRY, max_retries=2),
    30500: ErrorKind("carrier_error", RETRY),
    20500: ErrorKind("provider_error", UNKNOWN),
    21211: ErrorKind("invalid_number", FAIL),
    21408: ErrorKind("region_not_enabled", FAIL),
    21602: ErrorKind("empty_body", FAIL),
    21610: ErrorKind("opted_out", FAIL, opted_out=True),
    21612: ErrorKind("unroutable", FAIL),
    21614: ErrorKind("not_a_mobile", FAIL),
    21617: ErrorKind("body_too_long", FAIL),
    21635: ErrorKind("not_a_mobile", FAIL),
    30004: ErrorKind("blocked", FAIL),
    30005: ErrorKind("unknown_destination", FAIL),
    30006: ErrorKind("landline_or_unreachable_carrier", FAIL),
    30007: ErrorKind("filtered", FAIL),
    30036: ErrorKind("validity_expired", FAIL),
    20003: ErrorKind("authentication_failed", ACCOUNT),
    20403: ErrorKind("account_forbidden", ACCOUNT),
    30002: ErrorKind("account_suspended", ACCOUNT),
}


def will_fail_again(stored_code: str | None) -> bool:
    """A message's stored last_error_code is one the table says fails whatever we do."""
    if not (stored_code and stored_code.isascii() and stored_code.isdigit()):
        return False  # "timeout", "network", "expired", ...: ours, not Twilio's
    kind = TWILIO_ERRORS.get(int(stored_code))
    return kind is not None and kind.action == FAIL


def classify(code: int | None, http_status: int | None = None) -> ErrorKind:
    """The kind of a Twilio error code (or of a bare HTTP status when there is no code)."""
    if code in TWILIO_ERRORS:
        return TWILIO_ERRORS[code]
    if http_status is not None and http_status >= 500:
        return SERVER_ERROR
    return ErrorKind(f"error_{code}", FAIL)


# Twilio message statuses -> ours. Ours only move forward (see tikabot/core/statuses.py).
TWILIO_STATUSES = {
    "accepted": "accepted", "scheduled": "accepted", "queued": "accepted", "sending": "accepted",
    "sent": "sent", "delivered": "delivered", "read": "delivered",
    "undelivered": "undelivered", "failed": "undelivered", "canceled": "undelivered",
}


def created_status(raw: str | None) -> str:
    """Our status for a message Twilio has just created. "failed" or "canceled" this early is
    settled like any other failure, by the status callback (or the status poll) with its error
    code; until then the message is simply at the provider."""
    status = TWILIO_STATUSES.get((raw or "").lower(), "accepted")
    return "accepted" if status == "undelivered" else status


class BadStatusReport(ValueError):
    pass


MAX_ID_DIGITS = 18  # what a 64-bit id column holds


def _int_or_none(value: str | None) -> int | None:
    """An ASCII decimal integer of at most MAX_ID_DIGITS digits, or None ('²' and 20 digits are not ids)."""
    value = (value or "").strip()
    ok = value.isascii() and value.isdigit() and len(value) <= MAX_ID_DIGITS
    return int(value) if ok else None


def _our_int(query, name: str) -> int | None:
    """Our own id or attempt from the callback URL: absent is fine, anything else unreadable is refused."""
    value = _int_or_none(query.get(name))
    if value is None and (query.get(name) or "").strip():
        raise BadStatusReport(f"{name} must be a number of at most {MAX_ID_DIGITS} digits")
    return value


def parse_status(form, query) -> StatusReport:
    """Twilio's status-callback form (+ our URL query) -> StatusReport; BadStatusReport if unusable."""
    sid = (form.get("MessageSid") or form.get("SmsSid") or "").strip()
    raw = (form.get("MessageStatus") or form.get("SmsStatus") or "").strip().lower()
    if not sid or raw not in TWILIO_STATUSES:
        raise BadStatusReport("MessageSid and a known MessageStatus are required")
    if len(sid) > 64 or not storable_id(sid):
        raise BadStatusReport("MessageSid is too long or holds a NUL")
    code = _int_or_none(form.get("ErrorCode"))
    return StatusReport(sid, TWILIO_STATUSES[raw], code, _our_int(query, "id"), _our_int(query, "attempt"),
                        via=ROUTE, kind=_kind_of(code))


def report_from_message(message) -> StatusReport:
    """A fetched Twilio Message resource, read as if its status callback had arrived."""
    status = TWILIO_STATUSES.get((message.status or "").lower(), "accepted")
    code = _int_or_none(str(message.error_code or ""))
    return StatusReport(message.sid, status, code, None, None, kind=_kind_of(code))


def _kind_of(code: int | None) -> ErrorKind | None:
    """A report's error code as the send vocabulary's kind (None: the report names no error)."""
    return None if code is None else classify(code)


def status_callback_url(public_base_url: str, message_id: int, attempt: int) -> str:
    """Our id and attempt ride in the URL, so a callback names the message even when the
    create call timed out and we never learnt the sid."""
    return f"{public_base_url.rstrip('/')}/sms/status?{urlencode({'id': message_id, 'attempt': attempt})}"


def validity_seconds(expires_at: datetime | None, now: datetime) -> int | None:
    """Twilio's ValidityPeriod (1..36000 s) for a message that must not arrive after expires_at."""
    if expires_at is None:
        return None
    return max(1, min(36000, int((expires_at - now).total_seconds())))


SAY_LANGUAGES = {"en": "en-IN", "hi": "hi-IN", "bn": "bn-IN"}


def say_twiml(text: str, language: str) -> str:
    """TwiML reading text out twice in the beneficiary's language."""
    lang = SAY_LANGUAGES.get(language, "en-IN")
    say = f'<Say language="{lang}">{escape(text)}</Say>'
    return f'<?xml version="1.0" encoding="UTF-8"?><Response>{say}<Pause length="1"/>{say}</Response>'


class TwilioSender:
    """Sends SMS (or calls, `voice=True`) through the official async client; one per process."""

    def __init__(self, config, voice: bool = False, max_in_flight: int = 64):
        self.config = config
        self.voice = voice
        self.client = make_async_client(config.twilio_account_sid or "", config.twilio_auth_token or "",
                                        api_base=config.twilio_api_base, timeout=config.twilio_timeout,
                                        max_connections=max_in_flight)

    def _sender(self) -> dict:
        if self.config.twilio_messaging_service_sid and not self.voice:
            return {"messaging_service_sid": self.config.twilio_messaging_service_sid}
        return {"from_": self.config.twilio_from}

    async def send(self, message: Outgoing) -> Accepted:
        now = datetime.now(timezone.utc)
        try:
            if self.voice:
                created = await self.client.calls.create_async(
                    to=message.recipient, twiml=say_twiml(message.body, message.language), **self._sender())
            else:
                params = dict(to=message.recipient, body=message.body, **self._sender())
                if self.config.public_base_url:
                    params["status_callback"] = status_callback_url(self.config.public_base_url,
                                                                    message.id, message.attempt)
                validity = validity_seconds(message.expires_at, now)
                if validity is not None:
                    params["validity_period"] = validity
                created = await self.client.messages.create_async(**params)
        except TwilioRestException as exc:
            raise SendError(classify(exc.code, exc.status), exc.code or exc.status, exc.msg) from exc
        except (asyncio.TimeoutError, TimeoutError) as exc:
            raise SendError(TIMEOUT, "timeout") from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise SendError(NETWORK_ERROR, "network", type(exc).__name__) from exc
        except TwilioException as exc:
            raise SendError(SERVER_ERROR, "provider", str(exc)[:80]) from exc
        return Accepted(created.sid, "sent" if self.voice else created_status(created.status))

    async def find_existing(self, message: Outgoing, since: datetime,
                            exclude: frozenset[str] = frozenset()) -> Accepted | None:
        """Ask Twilio whether an earlier attempt of this message exists (same To and body,
        sent since the attempt started). Calls cannot be listed this way: None for voice."""
        if self.voice:
            return None
        try:
            found = await self.client.messages.list_async(
                to=message.recipient, date_sent_after=since - timedelta(seconds=5), limit=100)
        except (TwilioException, asyncio.TimeoutError, TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise SendError(NETWORK_ERROR, "check", type(exc).__name__) from exc
        for item in found:
            status = TWILIO_STATUSES.get(item.status, "accepted")
            # A copy the provider already reports undelivered never reached the phone: send again.
            if item.body == message.body and status != "undelivered" and item.sid not in exclude:
                return Accepted(item.sid, status)  # exclude: copies other messages of these words hold
        return None

    async def close(self) -> None:
        await close_async_client(self.client)
