"""C-DAC Mobile Seva (MSDG), the Government of India's SMS gateway: DLT push (replies, codes,
reminders) and pull SMS in (vaccinators texting the state's keyword to 51969 / 166 / 9223166166).
Translation only.

Push: every message carries its DLT template id (and the header it is registered under); an OTP
goes by MSDG's OTP service type (`otpmsg`, `unicodeotpmsg`: OTP text only, at most two numbers a
call), everything else by `singlemsg` / `unicodemsg`. MSDG's `402,MsgID = …` means the platform took
the message: tikabot records it as *accepted*, never delivered (MSDG pushes no delivery reports to
us; its portal shows them). Every documented answer code is one named error kind in CDAC_ERRORS.

Pull: MSDG signs nothing. A pull request is taken only when it comes from a configured source
address (CDAC_PULL_SOURCES; behind our reverse proxy, the address the proxy saw, read from
X-Forwarded-For only when the connection comes from TIKABOT_TRUSTED_PROXIES) *and* carries the long
secret of its URL (`?token=`, CDAC_PULL_TOKEN) compared in constant time. The state's keyword is
stripped, a 10-digit number becomes +91, and the message goes to the inbox like any channel's;
the reply goes back by push on C-DAC (`via` "cdac").
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import re
from typing import Mapping

from tikabot.core.message import InboundMessage
from tikabot.core.phones import BadPhone, mask, normalise
from tikabot.core.proxies import client_address, in_networks
from tikabot.core.safe_text import printable
from tikabot.core.sending import (
    ACCOUNT, FAIL, NETWORK_ERROR, RETRY, SERVER_ERROR, TIMEOUT, Accepted, ErrorKind, Outgoing, SendError,
)
from tikabot.handlers.cdac_client import (
    ACCEPTED, NETWORK_ERRORS, TIMEOUTS, UNREACHED, CdacClient, CdacHttpError, send_form,
)
from tikabot.i18n.encoding import GSM7, encoding_of

log = logging.getLogger(__name__)

CHANNEL = "sms"
ROUTE = "cdac"
MAX_TEXT = 1000  # MSDG forwards one SMS (160 characters); anything far longer is not from it
MAX_FIELD = 40

# Every answer code C-DAC documents for the DLT send API, and what tikabot does about it. Nothing
# else decides. ACCOUNT takes the route down (and alerts coordinators); FAIL is never retried.
CDAC_ERRORS: dict[int, ErrorKind] = {
    401: ErrorKind("cdac_credentials", ACCOUNT),  # wrong username or password
    403: ErrorKind("cdac_credits_exhausted", ACCOUNT),  # no SMS credits left on the account
    406: ErrorKind("cdac_invalid_number", FAIL),  # invalid or duplicate mobile numbers
    409: ErrorKind("cdac_smsc_timeout", RETRY, max_retries=3),  # the operator's SMSC did not answer
    412: ErrorKind("cdac_sender_not_approved", ACCOUNT),  # the header is not approved for this account
    413: ErrorKind("cdac_suspected_spam", FAIL),
    414: ErrorKind("cdac_rejected_by_operator", FAIL),  # DND or spam filter at the operator
    415: ErrorKind("cdac_secure_key_missing", ACCOUNT),
    416: ErrorKind("cdac_hash_mismatch", ACCOUNT),  # the key does not match: wrong CDAC_SECURE_KEY
    417: ErrorKind("cdac_otp_too_many_numbers", FAIL),  # otpmsg takes at most two numbers a call
    418: ErrorKind("cdac_daily_limit", ACCOUNT),  # the account's daily limit is reached
    422: ErrorKind("cdac_entity_id_invalid", FAIL),  # the DLT entity id must be 12-19 digits
    423: ErrorKind("cdac_template_refused", FAIL),  # template id missing or refused: sending again cannot help
    425: ErrorKind("cdac_secure_key_required", ACCOUNT),
}
# the connection was refused: MSDG never saw the request, so another route may take it at once
UNREACHABLE = ErrorKind("provider_unreachable", RETRY)
NO_ANSWER_CODE = ErrorKind("cdac_unreadable_answer", SERVER_ERROR.action)
NOT_INDIAN = ErrorKind("cdac_not_indian_number", FAIL)  # MSDG delivers to Indian mobiles only
DLT_UNREGISTERED = ErrorKind("dlt_unregistered", FAIL)
NOT_CONFIGURED = ErrorKind("cdac_not_configured", RETRY, slow=True)


def classify(code: int | None) -> ErrorKind:
    if code in CDAC_ERRORS:
        return CDAC_ERRORS[code]
    if code is not None and 500 <= code < 600:
        return SERVER_ERROR
    return ErrorKind(f"cdac_{code}", FAIL)


class BadRequest(ValueError):
    pass


# --- pull SMS: who may call us ---------------------------------------------------------------------

def source_allowed(config, remote_addr: str | None, forwarded_for: str | None) -> bool:
    """MSDG's address, as the connection or (behind our proxies, TIKABOT_TRUSTED_PROXIES) the
    outermost proxy of ours saw it (core/proxies.py)."""
    caller = client_address(remote_addr, forwarded_for, config.trusted_proxies)
    return in_networks(caller, config.cdac_pull_sources)


def token_ok(config, query: Mapping[str, str]) -> bool:
    expected = config.cdac_pull_token or ""
    token = query.get("token") or ""
    return bool(expected) and hmac.compare_digest(token.encode(), expected.encode())


# --- pull SMS: the message ------------------------------------------------------------------------

def strip_keyword(text: str, keyword: str | None) -> str:
    """'wb tika DOSE 0700000001' with keyword 'WB TIKA' -> 'DOSE 0700000001'. The keyword's words are
    matched case-insensitively, with any spaces between them; a text without it is kept as it is."""
    words = (keyword or "").split()
    if not words:
        return text.strip()
    pattern = r"^\s*" + r"\s+".join(re.escape(w) for w in words) + r"(?:\s+|$)"
    return re.sub(pattern, "", text, count=1, flags=re.I).strip()


def sender_of(raw: str) -> str:
    """MSDG's mobileNumber (10 digits today, '9324******') -> +91…; 91… and 0… forms are normalised.
    Digits only: a phone-number library would read letters as a keypad's digits."""
    text = raw.strip()
    digits = text.removeprefix("+")
    if not (digits.isascii() and digits.isdigit()):
        raise BadRequest("mobileNumber is not a phone number")
    if len(digits) == 10:
        return "+91" + digits
    try:
        return normalise(text)
    except BadPhone:
        raise BadRequest("mobileNumber is not a phone number") from None


def to_message(params: Mapping[str, str], keyword: str | None) -> InboundMessage:
    """MSDG's pull request (mobileNumber, timeStamp, operatorName, areaCode, message) -> InboundMessage.
    MSDG gives no message id: the id is a digest of number, time stamp and text, so MSDG calling us
    again with the same SMS is recorded once."""
    missing = [name for name in ("mobileNumber", "timeStamp", "message") if not (params.get(name) or "").strip()]
    if missing:
        raise BadRequest(f"{', '.join(missing)} required")
    number, stamp, text = params["mobileNumber"], params["timeStamp"].strip(), params["message"]
    if len(number) > MAX_FIELD or len(stamp) > MAX_FIELD:
        raise BadRequest("mobileNumber or timeStamp is too long")
    if len(text) > MAX_TEXT:
        raise BadRequest(f"message longer than {MAX_TEXT} characters")
    sender = sender_of(number)
    digest = hashlib.sha256(f"{sender}\n{stamp}\n{text}".encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return InboundMessage(channel=CHANNEL, provider_id=f"cdac-{digest}", sender=sender,
                          text=printable(strip_keyword(text, keyword)), via=ROUTE)


# --- push ----------------------------------------------------------------------------------------------

def ten_digits(recipient: str) -> str:
    """'+919830012345' -> '9830012345' (MSDG takes 10 or 12 digits; C-DAC's samples send 10)."""
    if not (recipient.startswith("+91") and len(recipient) == 13 and recipient[1:].isdigit()):
        raise SendError(NOT_INDIAN, "not_in", "C-DAC delivers to Indian mobile numbers only")
    return recipient[3:]


def is_otp(message: Outgoing) -> bool:
    """An OTP by its template (otp.*): MSDG's OTP type delivers nothing else, so a SEVERE alert on the
    otp lane still goes as a normal message."""
    return str(getattr(message.dlt, "template", "") or "").startswith("otp.")


def form_for(config, message: Outgoing) -> dict[str, str]:
    """The MSDG form for one message, or SendError before anything is sent (no DLT record, no header,
    not an Indian mobile)."""
    dlt = message.dlt
    if dlt is None or not getattr(dlt, "template_id", ""):
        raise SendError(DLT_UNREGISTERED, "dlt_unreg", "no approved DLT template for this message")
    sender_id = getattr(dlt, "header", None) or config.cdac_sender_id or ""
    if not sender_id:
        raise SendError(DLT_UNREGISTERED, "dlt_unreg", "no DLT header: set CDAC_SENDER_ID or the template's header")
    return send_form(username=config.cdac_username, password=config.cdac_password,
                     secure_key=config.cdac_secure_key, sender_id=sender_id, text=message.body,
                     numbers=[ten_digits(message.recipient)], template_id=dlt.template_id,
                     unicode=encoding_of(message.body) != GSM7, otp=is_otp(message),
                     entity_id=getattr(dlt, "entity_id", None))


def _error(exc: Exception) -> SendError:
    if isinstance(exc, CdacHttpError):
        return SendError(classify(exc.status), exc.status)
    if isinstance(exc, TIMEOUTS):
        return SendError(TIMEOUT, "timeout")
    if isinstance(exc, UNREACHED):
        return SendError(UNREACHABLE, "unreached", type(exc).__name__)
    return SendError(NETWORK_ERROR, "network", type(exc).__name__)


class CdacSender:
    """One per worker process."""

    def __init__(self, config):
        self.config = config
        self.client = None
        if config.cdac_username and config.cdac_password and config.cdac_secure_key:
            self.client = CdacClient(config.cdac_api_url, timeout=config.twilio_timeout)

    async def send(self, message: Outgoing) -> Accepted:
        if self.client is None:
            raise SendError(NOT_CONFIGURED, "config", "CDAC_USERNAME / PASSWORD / SECURE_KEY are not set")
        form = form_for(self.config, message)
        try:
            answer = await self.client.send(form)
        except (CdacHttpError, *TIMEOUTS, *NETWORK_ERRORS) as exc:
            raise _error(exc) from exc
        if answer.code == ACCEPTED and answer.msg_id:
            log.info("message %s to %s accepted by C-DAC", message.id, mask(message.recipient))
            return Accepted(answer.msg_id, "accepted")
        if answer.code is None or answer.code == ACCEPTED:  # an answer we cannot read: it may have gone
            raise SendError(NO_ANSWER_CODE, "unreadable", answer.text[:80])
        raise SendError(classify(answer.code), answer.code, answer.text[:80])

    async def find_existing(self, message: Outgoing, since,
                            exclude: frozenset[str] = frozenset()) -> Accepted | None:
        """MSDG has no API to look a message up (its delivery reports live in its portal), so an attempt
        whose answer was lost cannot be found: see the README, Routes and failover."""
        return None

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()
