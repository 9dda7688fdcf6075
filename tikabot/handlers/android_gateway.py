"""SMS Gateway for Android (capcom6/android-sms-gateway): a phone with a local SIM as the SMS channel.

Translation only. Inbound: the app's webhooks (`sms:received`, `sms:sent`, `sms:delivered`,
`sms:failed`, `system:ping`) -> a verified phone, then an InboundMessage or a StatusReport.
Outbound: our message -> the official client (`android-sms-gateway`, AsyncAPIClient) on the phone's
local server or the cloud API; the client's errors and the phone's failure reasons -> named kinds.

Webhook signature (the app's PayloadSigningPlugin): X-Signature = hex HMAC-SHA256, keyed with the
phone's signing key, over the raw body followed by the X-Timestamp header (Unix seconds). We refuse
a timestamp more than FRESH_S away from our clock, so a captured request cannot be replayed later;
a replay inside the window carries the same content and is deduplicated by the inbox.

Which phone: each phone has its own signing key, and the key that verifies names the phone (the
envelope's deviceId is the app's own id, which we do not need to configure).

Received messages: the app's `messageId` is derived from the content and is not unique, so the
provider id is a hash of what is: the phone, the sender, `receivedAt` (as sent, local time with
offset) and the text.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone

import aiohttp
from android_sms_gateway import AsyncAPIClient, Message, TextMessage
from android_sms_gateway.ahttp import AiohttpAsyncHttpClient
from android_sms_gateway.enums import HealthStatus, ProcessState
from android_sms_gateway.errors import APIError

from tikabot.core import safe_json
from tikabot.handlers import android_devices, android_pace
from tikabot.core.phones import BadPhone, mask, normalise
from tikabot.core import handoffs
from tikabot.core.sending import (
    FAIL, NETWORK_ERROR, RETRY, SERVER_ERROR, TIMEOUT, Accepted, ErrorKind, Outgoing, SendError, StatusReport,
)
from tikabot.core.throttle import Throttle
from tikabot.core.message import InboundMessage
from tikabot.core.safe_text import printable, storable_id

log = logging.getLogger(__name__)

CHANNEL = "sms"
ROUTE = "android"
FRESH_S = 300
MAX_BODY = 1600
MAX_SENDER = 40
EVENTS = ("sms:received", "sms:sent", "sms:delivered", "sms:failed", "system:ping")


class BadWebhook(ValueError):
    """Signed, but not something we can read; the text says what is wrong."""


# --- verification -----------------------------------------------------------------------------

def signature(key: str, body: bytes, timestamp: str) -> str:
    return hmac.new(key.encode(), body + timestamp.encode(), hashlib.sha256).hexdigest()


def verified_phone(phones, body: bytes, sig: str | None, timestamp: str | None, now: float):
    """The configured phone whose signing key signed this request, or None (missing, wrong or stale)."""
    if not sig or not timestamp or len(timestamp) > 12 or not timestamp.isascii() or not timestamp.isdigit():
        return None  # a 5,000-digit timestamp is refused before int() is asked to read it
    if abs(now - int(timestamp)) > FRESH_S:
        return None
    given = sig.strip().lower().encode("utf-8", "surrogateescape")  # bytes: a header may hold any byte
    match = None
    for phone in phones:  # compare against every key, so the time taken does not say which phone
        if phone.signing_key and hmac.compare_digest(signature(phone.signing_key, body, timestamp).encode(), given):
            match = match or phone
    return match


# --- webhooks -> our vocabulary -------------------------------------------------------------------

@dataclass(frozen=True)
class Event:
    name: str  # one of EVENTS, or another event we ignore
    payload: dict


def parse_event(body: bytes) -> Event:
    try:
        envelope = safe_json.loads(body)
    except ValueError:
        raise BadWebhook("body is not JSON") from None
    if not isinstance(envelope, dict) or not isinstance(envelope.get("event"), str):
        raise BadWebhook("no event")
    payload = envelope.get("payload")
    if not isinstance(payload, dict):
        raise BadWebhook("no payload")
    return Event(envelope["event"], payload)


def _text_field(payload: dict, *names: str) -> str:
    for name in names:
        value = payload.get(name)
        if isinstance(value, str) and value.strip():
            return value
    return ""


def received_id(phone_id: str, sender: str, received_at: str, text: str) -> str:
    digest = hashlib.sha256("\x1f".join((phone_id, sender, received_at, text)).encode()).hexdigest()
    return f"sg-{digest[:40]}"


def to_message(phone_id: str, payload: dict) -> InboundMessage:
    """An `sms:received` payload -> InboundMessage (via "android:<phone>")."""
    raw_sender = _text_field(payload, "sender", "phoneNumber")
    received_at = _text_field(payload, "receivedAt")
    text = payload.get("message")
    if not raw_sender:
        raise BadWebhook("missing sender")
    if not received_at:
        raise BadWebhook("missing receivedAt")
    if text is None:
        text = ""
    if not isinstance(text, str) or len(text) > MAX_BODY:
        raise BadWebhook(f"message must be text of at most {MAX_BODY} characters")
    if len(raw_sender) > MAX_SENDER:
        raise BadWebhook("sender is too long")
    try:
        sender = normalise(raw_sender)
    except BadPhone:
        sender = raw_sender.strip()  # an operator's alphanumeric sender: kept as sent
    return InboundMessage(channel=CHANNEL, provider_id=received_id(phone_id, sender, received_at, text),
                          sender=sender, text=printable(text), via=f"{ROUTE}:{phone_id}")


# The phone's failure reasons (Android SmsManager result names, first word of `reason`).
# `phone_down` kinds also take the phone out of rotation: the phone answered, its radio did not.
NO_SIGNAL = ErrorKind("phone_no_signal", RETRY, slow=True)
SEND_LIMIT = ErrorKind("phone_send_limit", RETRY, slow=True)
RADIO_ERROR = ErrorKind("phone_radio_error", RETRY, max_retries=3)
REJECTED = ErrorKind("network_rejected", FAIL)
REFUSED = ErrorKind("phone_refused", FAIL)
BAD_MESSAGE = ErrorKind("invalid_message", FAIL)
NO_SIM = ErrorKind("sim_absent", RETRY, slow=True)
PHONE_ERROR = ErrorKind("phone_error", RETRY, max_retries=2)

PHONE_REASONS: dict[str, ErrorKind] = {
    "RESULT_ERROR_RADIO_OFF": NO_SIGNAL, "RESULT_ERROR_NO_SERVICE": NO_SIGNAL,
    "RESULT_RADIO_NOT_AVAILABLE": NO_SIGNAL, "RESULT_RIL_RADIO_NOT_AVAILABLE": NO_SIGNAL,
    "RESULT_RIL_NETWORK_NOT_READY": NO_SIGNAL, "RESULT_SMS_BLOCKED_DURING_EMERGENCY": NO_SIGNAL,
    "RESULT_ERROR_LIMIT_EXCEEDED": SEND_LIMIT, "RESULT_RIL_REQUEST_RATE_LIMITED": SEND_LIMIT,
    "RESULT_UNEXPECTED_EVENT_STOP_SENDING": SEND_LIMIT,
    "RESULT_ERROR_GENERIC_FAILURE": RADIO_ERROR, "RESULT_NETWORK_ERROR": RADIO_ERROR,
    "RESULT_RIL_NETWORK_ERR": RADIO_ERROR, "RESULT_RIL_SMS_SEND_FAIL_RETRY": RADIO_ERROR,
    "RESULT_SMS_SEND_RETRY_FAILED": RADIO_ERROR, "RESULT_MODEM_ERROR": RADIO_ERROR,
    "RESULT_RIL_MODEM_ERR": RADIO_ERROR, "RESULT_SYSTEM_ERROR": RADIO_ERROR, "RESULT_RIL_SYSTEM_ERR": RADIO_ERROR,
    "RESULT_INTERNAL_ERROR": RADIO_ERROR, "RESULT_RIL_INTERNAL_ERR": RADIO_ERROR,
    "RESULT_NO_MEMORY": RADIO_ERROR, "RESULT_RIL_NO_MEMORY": RADIO_ERROR,
    "RESULT_NO_RESOURCES": RADIO_ERROR, "RESULT_RIL_NO_RESOURCES": RADIO_ERROR,
    "RESULT_RIL_GENERIC_ERROR": RADIO_ERROR, "RESULT_RIL_BLOCKED_DUE_TO_CALL": RADIO_ERROR,
    "RESULT_NETWORK_REJECT": REJECTED, "RESULT_RIL_NETWORK_REJECT": REJECTED, "RESULT_RIL_ACCESS_BARRED": REJECTED,
    "RESULT_ERROR_FDN_CHECK_FAILURE": REFUSED, "RESULT_ERROR_SHORT_CODE_NOT_ALLOWED": REFUSED,
    "RESULT_ERROR_SHORT_CODE_NEVER_ALLOWED": REFUSED, "RESULT_OPERATION_NOT_ALLOWED": REFUSED,
    "RESULT_RIL_OPERATION_NOT_ALLOWED": REFUSED,
    "RESULT_ERROR_NULL_PDU": BAD_MESSAGE, "RESULT_INVALID_ARGUMENTS": BAD_MESSAGE,
    "RESULT_INVALID_SMS_FORMAT": BAD_MESSAGE, "RESULT_ENCODING_ERROR": BAD_MESSAGE,
    "RESULT_RIL_INVALID_SMS_FORMAT": BAD_MESSAGE, "RESULT_RIL_ENCODING_ERR": BAD_MESSAGE,
    "RESULT_INVALID_SMSC_ADDRESS": BAD_MESSAGE, "RESULT_RIL_INVALID_SMSC_ADDRESS": BAD_MESSAGE,
    "RESULT_RIL_SIM_ABSENT": NO_SIM,
}
PHONE_DOWN = frozenset({NO_SIGNAL.name, NO_SIM.name})


def reason_code(reason) -> str:
    """'RESULT_ERROR_NO_SERVICE (Failed because ...)' -> 'RESULT_ERROR_NO_SERVICE'."""
    text = reason.strip() if isinstance(reason, str) else ""
    return (text.split(" ", 1)[0] or "Unknown")[:40]


def reason_kind(reason) -> ErrorKind:
    return PHONE_REASONS.get(reason_code(reason), PHONE_ERROR)


STATUS_EVENTS = {"sms:sent": "sent", "sms:delivered": "delivered", "sms:failed": "undelivered"}


def to_report(event: Event, phone_id: str) -> StatusReport:
    """An sms:sent / sms:delivered / sms:failed payload from the phone whose key signed it ->
    StatusReport (provider id = our message id; via = that phone)."""
    provider_id = _text_field(event.payload, "messageId")
    if not provider_id or len(provider_id) > 40 or not storable_id(provider_id):
        raise BadWebhook("messageId is missing, too long or holds a NUL")
    message_id, attempt = ids_in(provider_id)
    via = f"{ROUTE}:{phone_id}"
    if event.name != "sms:failed":
        return StatusReport(provider_id, STATUS_EVENTS[event.name], None, message_id, attempt, via=via)
    reason = event.payload.get("reason")
    return StatusReport(provider_id, "undelivered", None, message_id, attempt,
                        kind=reason_kind(reason), code=reason_code(reason), via=via)


# --- sending --------------------------------------------------------------------------------------

def gateway_id(message_id: int, attempt: int) -> str:
    """The id we give the phone for one attempt: the app refuses a second message with the same
    id (409), and its status webhooks name it, so it is also the provider id."""
    return f"tb-{message_id}-{attempt}"


def ids_in(provider_id: str) -> tuple[int | None, int | None]:
    parts = provider_id.split("-")
    if len(parts) == 3 and parts[0] == "tb" and all(p.isascii() and p.isdigit() and len(p) <= 18 for p in parts[1:]):
        return int(parts[1]), int(parts[2])
    return None, None


# The client's HTTP errors by status. A phone that refuses our credentials or is not where the
# URL says is retried slowly and leaves rotation, rather than pausing every channel.
GATEWAY_ERRORS: dict[int, ErrorKind] = {
    400: ErrorKind("gateway_bad_request", FAIL),  # e.g. a number the phone cannot send to
    401: ErrorKind("gateway_auth_refused", RETRY, slow=True),
    403: ErrorKind("gateway_auth_refused", RETRY, slow=True),
    404: ErrorKind("gateway_not_found", RETRY, slow=True),
    429: ErrorKind("rate_limited", RETRY),
    500: SERVER_ERROR, 502: SERVER_ERROR, 503: SERVER_ERROR, 504: SERVER_ERROR,
}
NO_PHONE = ErrorKind("no_gateway_phone", RETRY, slow=True)
PHONE_BUSY = ErrorKind("gateway_busy", RETRY, paced=True)  # its slot is further off than the lane may wait


def classify_http(status: int | None) -> ErrorKind:
    if status in GATEWAY_ERRORS:
        return GATEWAY_ERRORS[status]
    if status is not None and status >= 500:
        return SERVER_ERROR
    return ErrorKind(f"gateway_{status}", FAIL)


def _validity_s(expires_at: datetime | None) -> int | None:
    if expires_at is None:
        return None
    return max(1, int((expires_at - datetime.now(timezone.utc)).total_seconds()))


class AndroidSender:
    """Sends through the configured phones in turn: the phone the conversation came in on when it
    is healthy (`message.via` = "android:<id>", if the router sets it), else the first healthy one
    by configured order and round robin. Each phone is paced to its SIM's rate (Redis, shared by
    every worker). One per worker process."""

    def __init__(self, config, redis=None):
        self.config = config
        self.phones = {p.id: p for p in config.smsgate_phones}
        self._redis = redis
        self._owns_redis = redis is None
        self._throttles: dict[str, Throttle] = {}
        self._session: aiohttp.ClientSession | None = None
        self._clients: dict[str, AsyncAPIClient] = {}

    @property
    def redis(self):
        if self._redis is None:
            from redis import Redis

            self._redis = Redis.from_url(self.config.redis_url)
        return self._redis

    def _client(self, phone) -> AsyncAPIClient:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.config.smsgate_timeout))
            self._clients.clear()
        if phone.id not in self._clients:
            self._clients[phone.id] = AsyncAPIClient(phone.username or None, phone.password, base_url=phone.url,
                                                     http_client=AiohttpAsyncHttpClient(self._session))
        return self._clients[phone.id]

    def choose(self, message: Outgoing) -> list:
        """Healthy phones, the preferred one first."""
        healthy = android_devices.healthy_phones(self.redis, self.phones, time.time(), self.config.smsgate_stale_s)
        via = getattr(message, "via", "") or ""
        wanted = via.split(":", 1)[1] if via.startswith(f"{ROUTE}:") else None
        if wanted in healthy:
            return [self.phones[wanted]] + [self.phones[p] for p in healthy if p != wanted]
        if not healthy:
            return []
        turn = self.redis.incr("tikabot:smsgate:turn") % len(healthy)
        order = healthy[turn:] + healthy[:turn]
        return [self.phones[p] for p in order]

    def _throttle(self, phone) -> Throttle:
        throttle = self._throttles.get(phone.id)
        if throttle is None:
            throttle = self._throttles[phone.id] = Throttle(self.redis, phone.per_minute / 60.0, f"{ROUTE}:{phone.id}")
        return throttle

    async def _pace(self, phone, priority: str) -> None:
        """Wait for this message's slot on the phone, or refuse it (no slot taken): android_pace.py."""
        interval = 60.0 / phone.per_minute
        lane = android_pace.lane_for(priority, interval, self.config.smsgate_max_wait)
        slot = self._throttle(phone).try_reserve(1, tolerance=lane.tolerance, max_wait=lane.max_wait)
        if not slot.granted:
            raise SendError(PHONE_BUSY, "busy", f"phone {phone.id} paced",
                            wait_s=android_pace.retry_after(priority, slot.wait, interval))
        if slot.wait > 0:
            await asyncio.sleep(slot.wait)

    async def send(self, message: Outgoing) -> Accepted:
        phones = self.choose(message)
        if not phones:
            raise SendError(NO_PHONE, "no_phone", "no gateway phone in rotation")
        phone = phones[0]
        await self._pace(phone, message.priority)
        request = Message(phone_numbers=[message.recipient], text_message=TextMessage(message.body),
                          id=gateway_id(message.id, message.attempt), with_delivery_report=True,
                          ttl=_validity_s(message.expires_at), sim_number=phone.sim)
        via = f"{ROUTE}:{phone.id}"
        handoffs.note(self.redis, message.id, message.attempt, via)  # before the phone can report on it
        try:
            state = await self._client(phone).send(request, skip_phone_validation=False)
        except APIError as exc:
            if exc.status_code == 409:  # this very attempt is already on the phone
                android_devices.send_worked(self.redis, phone.id)
                return Accepted(request.id, "accepted", via)
            kind = classify_http(exc.status_code)
            if kind.action != FAIL and exc.status_code != 429:
                android_devices.send_failed(self.redis, phone.id, kind.name)
            raise SendError(kind, exc.status_code, f"phone {phone.id}") from exc
        except (asyncio.TimeoutError, TimeoutError) as exc:
            android_devices.send_failed(self.redis, phone.id, "timeout")
            raise SendError(TIMEOUT, "timeout", f"phone {phone.id}") from exc
        except (aiohttp.ClientError, OSError) as exc:
            android_devices.send_failed(self.redis, phone.id, "network")
            raise SendError(NETWORK_ERROR, "network", f"phone {phone.id}: {type(exc).__name__}") from exc
        android_devices.send_worked(self.redis, phone.id)
        log.info("message %s to %s handed to phone %s", message.id, mask(message.recipient), phone.id)
        return Accepted(state.id, _created_status(state.state), via)

    async def probe(self) -> bool:
        """Whether any gateway phone is back, asked without sending anything (route health's probe of
        a route that is recovering): SMS Gateway for Android's GET /health, every phone at once. A
        phone that answers, and does not report its own checks failing, is back in rotation (as
        after a ping); one that does not answer stays as it was."""
        answers = await asyncio.gather(*(self._answers(phone) for phone in self.phones.values()))
        return any(answers)

    async def _answers(self, phone) -> bool:
        try:
            health = await self._client(phone).health_check()
        except (APIError, asyncio.TimeoutError, TimeoutError, aiohttp.ClientError, OSError,
                ValueError, KeyError, TypeError) as exc:  # no answer, or not a health answer
            log.info("gateway phone %s probe: no answer (%s)", phone.id, type(exc).__name__)
            return False
        if health.status == HealthStatus.FAIL:
            log.info("gateway phone %s probe: it answers that its checks fail", phone.id)
            return False
        android_devices.heard_from(self.redis, phone.id, time.time())
        return True

    async def status(self, provider_id: str, via: str | None) -> StatusReport | None:
        """The phone's word on one message it was handed (GET /messages/<id>), as its webhook would
        have said it: for a report lost while the phone was off or our app unreachable. None when
        the phone is not one of ours, cannot be asked now or has no such message."""
        phone = self.phones.get(via.split(":", 1)[1]) if (via or "").startswith(f"{ROUTE}:") else None
        if phone is None:
            return None
        try:
            state = await self._client(phone).get_state(provider_id)
        except (APIError, asyncio.TimeoutError, TimeoutError, aiohttp.ClientError, OSError,
                ValueError, KeyError, TypeError):  # no answer, no such message, not a state
            return None
        message_id, attempt = ids_in(provider_id)
        status = _status_of(state.state)
        if status != "undelivered":
            return StatusReport(provider_id, status, None, message_id, attempt, via=via)
        reason = next((r.error for r in state.recipients if r.error), None)
        return StatusReport(provider_id, "undelivered", None, message_id, attempt, kind=reason_kind(reason),
                            code=reason_code(reason), via=via)

    async def find_existing(self, message: Outgoing, since,
                            exclude: frozenset[str] = frozenset()) -> Accepted | None:
        """Ask every phone about this message's earlier attempts (their ids are ours)."""
        for attempt in range(message.attempt - 1, max(0, message.attempt - 4), -1):
            wanted = gateway_id(message.id, attempt)
            for phone in self.phones.values():
                try:
                    state = await self._client(phone).get_state(wanted)
                except APIError as exc:
                    if exc.status_code == 404:
                        continue
                    raise SendError(classify_http(exc.status_code), exc.status_code, "check") from exc
                except (asyncio.TimeoutError, TimeoutError, aiohttp.ClientError, OSError) as exc:
                    raise SendError(NETWORK_ERROR, "check", type(exc).__name__) from exc
                status = _status_of(state.state)
                if status != "undelivered":
                    return Accepted(state.id, status, f"{ROUTE}:{phone.id}")
        return None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._owns_redis and self._redis is not None:
            self._redis.close()
            self._redis = None


PROCESS_STATES = {
    ProcessState.Pending: "accepted", ProcessState.Processed: "accepted", ProcessState.Sent: "sent",
    ProcessState.Delivered: "delivered", ProcessState.Failed: "undelivered",
    ProcessState.Cancelling: "undelivered", ProcessState.Cancelled: "undelivered",
}


def _status_of(state: ProcessState) -> str:
    return PROCESS_STATES.get(state, "accepted")


def _created_status(state: ProcessState) -> str:
    """A failure this early is settled like any other, by the sms:failed webhook with its reason."""
    status = _status_of(state)
    return "accepted" if status == "undelivered" else status
