"""A small client for C-DAC Mobile Seva's (MSDG) DLT send API, on aiohttp.

C-DAC publishes sample code (Java, C#, PHP in its integration document), not a library, so this is
written by hand in the API's own terms: one form POST to .../esms/sendsmsrequestDLT with `username`,
`password` (hex SHA-1 of the password; C-DAC's sample names the method MD5 but computes SHA-1),
`senderid`, `content`, `smsservicetype`, `mobileno` (or `bulkmobno` for the Unicode types, as the
sample sends them), `key` (hex SHA-512 of username + senderid + content + secure key, each trimmed)
and `templateid`. Unicode text goes as `&#N;` entities, one per UTF-16 unit, and the key is taken over
that form, as C-DAC's sendUnicodeSMS does. The answer is one line of text: `402,MsgID = <id>`
(accepted by the platform) or an error code and its words.
"""
from __future__ import annotations

import asyncio
import hashlib
import re
from dataclasses import dataclass

import aiohttp

DEFAULT_API_URL = "https://msdgweb.mgov.gov.in/esms/sendsmsrequestDLT"
ACCEPTED = 402  # "402,MsgID = 150620161466003974245msdgsms": taken by MSDG, nothing more
OTP_MAX_NUMBERS = 2  # otpmsg / unicodeotpmsg take at most two numbers a call (MSDG answers 417)
SERVICE_TYPES = {(False, False): "singlemsg", (True, False): "unicodemsg",
                 (False, True): "otpmsg", (True, True): "unicodeotpmsg"}
ANSWER = re.compile(r"(\d{3})\s*,?\s*(.*)", re.S)
MSG_ID = re.compile(r"MsgID\s*=\s*([A-Za-z0-9_-]{1,64})")


class CdacHttpError(Exception):
    """MSDG answered with a non-2xx HTTP status (its web server, not its API)."""

    def __init__(self, status: int, text: str = ""):
        super().__init__(f"HTTP {status}: {text[:80]}" if text else f"HTTP {status}")
        self.status = status


@dataclass(frozen=True)
class Answer:
    code: int | None  # MSDG's code (402 accepted); None: the answer named no code
    msg_id: str | None  # MSDG's message id, with 402
    text: str  # the answer as it came, cut short for logs


def entities(text: str) -> str:
    """'টিকা' -> '&#2463;&#2495;&#2453;&#2494;': every UTF-16 unit as a decimal entity, as C-DAC's sample
    writes Unicode content (a character beyond the BMP is its two surrogates, as Java's charAt gives)."""
    data = text.encode("utf-16-be", "surrogatepass")
    return "".join(f"&#{int.from_bytes(data[i:i + 2], 'big')};" for i in range(0, len(data), 2))


def from_entities(content: str) -> str:
    """The inverse of entities(): what the phone shows."""
    units = re.findall(r"&#(\d{1,5});", content)
    if "".join(f"&#{u};" for u in units) != content:
        raise ValueError("not a run of &#N; entities")
    data = b"".join(int(u).to_bytes(2, "big") for u in units)
    return data.decode("utf-16-be", "surrogatepass")


def password_hash(password: str) -> str:
    """Hex SHA-1 of the password (its ISO-8859-1 bytes, as the sample; UTF-8 when it has other letters)."""
    try:
        raw = password.encode("iso-8859-1")
    except UnicodeEncodeError:
        raw = password.encode("utf-8")
    return hashlib.sha1(raw).hexdigest()


def message_key(username: str, sender_id: str, content: str, secure_key: str) -> str:
    """Hex SHA-512 of username + senderid + content + secure key, each trimmed: what proves the message."""
    joined = username.strip() + sender_id.strip() + content.strip() + secure_key.strip()
    return hashlib.sha512(joined.encode("utf-8")).hexdigest()


def send_form(*, username: str, password: str, secure_key: str, sender_id: str, text: str, numbers: list[str],
              template_id: str, unicode: bool, otp: bool, entity_id: str | None = None) -> dict[str, str]:
    """The form of one send. ValueError for more than two numbers on an OTP type (MSDG's 417)."""
    if otp and len(numbers) > OTP_MAX_NUMBERS:
        raise ValueError(f"an OTP send takes at most {OTP_MAX_NUMBERS} numbers, not {len(numbers)}")
    content = entities(text.strip()) if unicode else text.strip()
    form = {"username": username.strip(), "password": password_hash(password), "senderid": sender_id.strip(),
            "content": content, "smsservicetype": SERVICE_TYPES[(unicode, otp)],
            ("bulkmobno" if unicode and not otp else "mobileno"): ",".join(numbers),
            "key": message_key(username, sender_id, content, secure_key), "templateid": template_id.strip()}
    if entity_id:
        form["entityid"] = entity_id.strip()
    return form


def parse_answer(text: str) -> Answer:
    """'402,MsgID = 1506...msdgsms' -> Answer(402, '1506...msdgsms'); 'ERROR : 401,Credentials Error' ->
    Answer(401, None). The code is the first three digits the line starts with, after any 'ERROR :'."""
    line = text.strip()
    body = re.sub(r"^\s*error\s*:?\s*", "", line, flags=re.I)
    found = ANSWER.match(body)
    if found is None:
        return Answer(None, None, line[:120])
    code = int(found.group(1))
    msg_id = MSG_ID.search(found.group(2)) if code == ACCEPTED else None
    return Answer(code, msg_id.group(1) if msg_id else None, line[:120])


class CdacClient:
    def __init__(self, api_url: str = DEFAULT_API_URL, timeout: float = 10.0):
        self.api_url = api_url
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        return self._session

    async def send(self, form: dict[str, str]) -> Answer:
        async with self._open().post(self.api_url, data=form) as answer:
            text = await answer.text()
            status = answer.status
        if status >= 300:
            raise CdacHttpError(status, text)
        return parse_answer(text)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


# never reached MSDG: nothing was sent, another route may take the message at once
UNREACHED = (aiohttp.ClientConnectorError,)
NETWORK_ERRORS = (aiohttp.ClientError, OSError)
TIMEOUTS = (asyncio.TimeoutError, TimeoutError)
