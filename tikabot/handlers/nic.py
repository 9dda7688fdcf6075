"""The NIC SMS gateway (National Informatics Centre, smsgw.sms.gov.in): the government's own
domestic route, DLT-registered templates only. Translation only.

Outbound: `HttpLink` with `username`, `pin`, `message`, `mnumber` (with country code, no `+`),
`signature` (the DLT header), `dlt_entity_id`, `dlt_template_id`; Bengali or Hindi text as
`msgType=UC` with the message as hex UCS-2 prefixed `FEFF`. NIC's integrators (eGov DIGIT, Koha's
SMS::Send::IN::NICSMS) post a form; so do we.

Its answer is text. `000` (also written `code=API000`, as in `Message Accepted for Request
ID=...~code=API000 & info=Platform Accepted`) means NIC accepted it, never that it was delivered;
the request id is NIC's id for the message. Anything else is an error code, read through NIC_ERRORS
(the only place that decides). NIC's own list beyond `-2` (invalid credentials) and `-19`
(unauthorised: the account's allowed source address does not match) is not public: other codes
are failures named by their code, not retried.

Delivery reports: NIC pushes them to a URL registered with the account. Its field names are not
published, so we read the common ones (`requestid`/`msgid`, `status`, `errcode`, `mobile`) and
give NIC a URL that carries our secret token (NIC_CALLBACK_TOKEN, compared in constant time). NIC
documents no fixed source addresses; NIC_ALLOWED_SOURCES narrows who may post when a district
learns them from NIC.
"""
from __future__ import annotations

import asyncio
import hmac
import logging
import re
from typing import Mapping

import aiohttp

from tikabot.core.phones import mask
from tikabot.core.proxies import client_address, in_networks
from tikabot.core.safe_text import storable_id
from tikabot.core.sending import (
    ACCOUNT, FAIL, NETWORK_ERROR, RETRY, SERVER_ERROR, TIMEOUT, Accepted, ErrorKind, Outgoing, SendError,
    StatusReport,
)
from tikabot.i18n.encoding import GSM7, encoding_of

log = logging.getLogger(__name__)

ROUTE = "nic"
MAX_ID = 40  # the outbox keeps provider ids of 40 characters

# NIC's answers, one table: the code of the send answer ("000" accepted, "-2", ...), HTTP statuses
# ("http:<n>"), and the delivery report's status words ("dlr:<WORD>").
NIC_ERRORS: dict[str, ErrorKind] = {
    "-2": ErrorKind("nic_invalid_credentials", ACCOUNT),  # username or pin wrong, account locked
    "-19": ErrorKind("nic_unauthorised", ACCOUNT),  # the account's allowed source address is not ours
    "http:401": ErrorKind("nic_invalid_credentials", ACCOUNT),
    "http:403": ErrorKind("nic_unauthorised", ACCOUNT),
    "http:429": ErrorKind("rate_limited", RETRY),
    "dlr:UNDELIV": ErrorKind("not_delivered_to_phone", RETRY, max_retries=2, slow=True),
    "dlr:EXPIRED": ErrorKind("expired_at_operator", RETRY, max_retries=2, slow=True),  # phone off too long
    "dlr:REJECTD": ErrorKind("operator_rejected", FAIL),  # DLT scrubbing, DND, a bad number
    "dlr:DELETED": ErrorKind("operator_deleted", FAIL),
    "dlr:UNKNOWN": ErrorKind("unknown_delivery_error", RETRY, max_retries=2),
}
DLT_UNREGISTERED = ErrorKind("dlt_unregistered", FAIL)
NOT_CONFIGURED = ErrorKind("nic_not_configured", RETRY, slow=True)
NO_REQUEST_ID = ErrorKind("nic_answer_unreadable", FAIL)

# The report's status word -> ours (SMPP receipt words, which NIC's gateway passes on).
STATUSES = {"DELIVRD": "delivered", "DELIVERED": "delivered", "ACCEPTD": "sent", "ACKED": "sent",
            "ENROUTE": "sent", "SUBMITTED": "sent", "UNDELIV": "undelivered", "EXPIRED": "undelivered",
            "REJECTD": "undelivered", "DELETED": "undelivered", "UNKNOWN": "undelivered",
            "FAILED": "undelivered", "UNDELIVERED": "undelivered"}

ACCEPTED = "000"
CODE = re.compile(r"(?:code\s*=\s*(?:API)?\s*|^)(-?\d{1,4})\b", re.IGNORECASE)
REQUEST_ID = re.compile(r"Request\s*ID\s*=\s*([A-Za-z0-9-]{1,40})", re.IGNORECASE)


class BadRequest(ValueError):
    pass


def classify(key: str) -> ErrorKind:
    if key in NIC_ERRORS:
        return NIC_ERRORS[key]
    if key.startswith("http:5"):
        return SERVER_ERROR
    return ErrorKind(f"nic_error_{key.replace(':', '_').lstrip('-')}", FAIL)


# --- the send ---------------------------------------------------------------------------------------

def ucs2_hex(text: str) -> str:
    """'টিকা' -> 'FEFF099F09BF0995098E'...: NIC's `msgType=UC` message, UTF-16BE with its byte-order mark."""
    return "FEFF" + text.encode("utf-16-be").hex().upper()


def send_form(config, message: Outgoing) -> dict[str, str]:
    """The HttpLink form for one message, or SendError dlt_unregistered without an approved DLT record."""
    dlt = getattr(message, "dlt", None)
    entity = (getattr(dlt, "entity_id", None) or config.nic_dlt_entity_id) if dlt is not None else None
    if dlt is None or not getattr(dlt, "template_id", None) or not entity:
        raise SendError(DLT_UNREGISTERED, "dlt_unreg", "no approved DLT template for this message")
    form = {"username": config.nic_username or "", "pin": config.nic_pin or "",
            "mnumber": message.recipient.lstrip("+"),
            "signature": getattr(dlt, "header", None) or config.nic_signature or "",
            "dlt_entity_id": entity, "dlt_template_id": dlt.template_id}
    if encoding_of(message.body) == GSM7:
        form["message"] = message.body
    else:
        form.update(message=ucs2_hex(message.body), msgType="UC")
    return form


def read_answer(text: str) -> tuple[str, str | None]:
    """HttpLink's answer -> (code, NIC's request id). '000' / 'Message Accepted for Request ID=123~code=API000
    & info=...' -> ('000', '123'); '-2' -> ('-2', None); an answer without a code -> ('', None)."""
    body = text.strip()
    found = CODE.search(body)
    request = REQUEST_ID.search(body)
    code = found.group(1) if found else ""
    if not code and request and "accepted" in body.lower():
        code = ACCEPTED  # 'Message Accepted for Request ID=...' without its code part
    return code, request.group(1) if request else None


def answer_error(code: str, text: str) -> SendError:
    return SendError(classify(code), code or "unreadable", text.strip()[:80])


class NicSender:
    """One per worker process: HttpLink over one aiohttp session."""

    def __init__(self, config):
        self.config = config
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.config.nic_timeout))
        return self._session

    async def send(self, message: Outgoing) -> Accepted:
        if not (self.config.nic_username and self.config.nic_pin):
            raise SendError(NOT_CONFIGURED, "config", "NIC_USERNAME / NIC_PIN are not set")
        form = send_form(self.config, message)
        try:
            async with self._open().post(self.config.nic_url, data=form) as answer:
                text, status = await answer.text(errors="replace"), answer.status
        except (asyncio.TimeoutError, TimeoutError) as exc:
            raise SendError(TIMEOUT, "timeout") from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise SendError(NETWORK_ERROR, "network", type(exc).__name__) from exc
        if status >= 300:
            raise SendError(classify(f"http:{status}"), status, text.strip()[:80])
        code, request_id = read_answer(text)
        if code != ACCEPTED:
            raise answer_error(code, text)
        log.info("message %s to %s accepted by NIC (request %s)", message.id, mask(message.recipient), request_id)
        return Accepted(request_id or f"nic-{message.id}-{message.attempt}", "accepted")

    async def find_existing(self, message: Outgoing, since,
                            exclude: frozenset[str] = frozenset()) -> Accepted | None:
        """HttpLink has no look-up by our id: an attempt whose answer was lost cannot be found here.
        Its delivery report names NIC's request id only, which we never learnt, so such a copy is
        not linked either: a retry after a lost answer may send a second SMS (README, NIC)."""
        return None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


# --- delivery reports -----------------------------------------------------------------------------

def authorized(config, token: str | None, remote: str | None, forwarded_for: str | None = None) -> bool:
    """The secret token (constant time) and, when NIC_ALLOWED_SOURCES is set, the source address:
    the connection's, or behind our proxies (TIKABOT_TRUSTED_PROXIES) the one the outermost proxy
    of ours saw (core/proxies.py), as for C-DAC's pull requests."""
    expected = config.nic_callback_token
    if not expected or not hmac.compare_digest((token or "").encode(), expected.encode()):
        return False
    if not config.nic_allowed_sources:
        return True
    caller = client_address(remote, forwarded_for, config.trusted_proxies)
    return in_networks(caller, config.nic_allowed_sources)


def _first(values: Mapping[str, str], *names: str) -> str:
    lowered = {k.lower(): v for k, v in values.items()}
    for name in names:
        if (lowered.get(name) or "").strip():
            return lowered[name].strip()
    return ""


def parse_report(values: Mapping[str, str]) -> StatusReport:
    """A delivery report (requestid or msgid, status, errcode) -> StatusReport."""
    request_id = _first(values, "requestid", "request_id", "msgid", "messageid", "reqid")
    word = _first(values, "status", "stat", "dlrstatus").upper()
    if not request_id or word not in STATUSES:
        raise BadRequest("requestid and a known status (DELIVRD, UNDELIV, EXPIRED, REJECTD, ...) are required")
    if len(request_id) > MAX_ID or not storable_id(request_id):
        raise BadRequest("requestid is too long or holds a NUL")
    status = STATUSES[word]
    if status != "undelivered":
        return StatusReport(request_id, status, None, None, None, via=ROUTE)
    error = _first(values, "errcode", "err", "error")[:10]
    return StatusReport(request_id, status, None, None, None, kind=classify(f"dlr:{word}"),
                        code=error or word.lower()[:10], via=ROUTE)
