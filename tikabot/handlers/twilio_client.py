"""Twilio REST clients pointed at a configurable API base (Twilio itself or the simulator).

twilio-python builds absolute URLs on ``*.twilio.com`` hosts (``api.twilio.com`` for Messages
and Calls, ``api.<region>.twilio.com`` when an edge or region is set). The documented extension
point is the HTTP client: we subclass it and rewrite those hosts to ``api_base`` in
``request()``. Both clients also get an explicit timeout (the stock clients have none) and
keep-alive connection reuse.
"""

from __future__ import annotations

import os
import re
from typing import Optional

import aiohttp
from requests.adapters import HTTPAdapter
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

DEFAULT_API_BASE = "https://api.twilio.com"
DEFAULT_TIMEOUT = 10.0
API_BASE_ENV = "TWILIO_API_BASE"

_TWILIO_HOST = re.compile(r"^https://(?:[A-Za-z0-9-]+\.)*twilio\.com(?=[/?]|$)")


def api_base_from_env(environ=None) -> str:
    """The API base from ``TWILIO_API_BASE``, or Twilio's own."""
    environ = os.environ if environ is None else environ
    return (environ.get(API_BASE_ENV) or DEFAULT_API_BASE).rstrip("/")


def rewrite_url(url: str, api_base: str) -> str:
    """Replace the scheme and ``*.twilio.com`` host of ``url`` by ``api_base``."""
    if api_base == DEFAULT_API_BASE:
        return url
    return _TWILIO_HOST.sub(api_base, url, count=1)


class BaseUrlHttpClient(TwilioHttpClient):
    """Sync client (requests): rewritten host, explicit timeout, one pooled session."""

    def __init__(
        self,
        api_base: str = DEFAULT_API_BASE,
        timeout: float = DEFAULT_TIMEOUT,
        pool_size: int = 32,
    ):
        super().__init__(pool_connections=True, timeout=timeout)
        self.api_base = api_base.rstrip("/")
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)

    def request(self, method, url, *args, **kwargs):
        return super().request(method, rewrite_url(url, self.api_base), *args, **kwargs)

    def close(self) -> None:
        self.session.close()


class AsyncBaseUrlHttpClient(AsyncTwilioHttpClient):
    """Async client (aiohttp): rewritten host, explicit timeout, one keep-alive session.

    The aiohttp session is created on first use, inside the running event loop, and
    allows ``max_connections`` requests in flight. Close it with ``await client.close()``
    (or ``async with``).
    """

    def __init__(
        self,
        api_base: str = DEFAULT_API_BASE,
        timeout: float = DEFAULT_TIMEOUT,
        max_connections: int = 100,
    ):
        super().__init__(pool_connections=False, timeout=timeout)
        self.api_base = api_base.rstrip("/")
        self.max_connections = max_connections
        self.session: Optional[aiohttp.ClientSession] = None

    def _open_session(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(limit=self.max_connections)
        return aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=self.timeout)
        )

    async def request(self, method, url, params=None, data=None, headers=None,
                      auth=None, timeout=None, allow_redirects=False) -> Response:
        """Like the stock client, but with a header for Basic auth (aiohttp's ``BasicAuth``
        is deprecated) and the client timeout when none is given (the stock client passes
        None, which aiohttp reads as "no timeout")."""
        if self.session is None or self.session.closed:
            self.session = self._open_session()
        headers = dict(headers or {})
        if auth is not None:
            headers["Authorization"] = aiohttp.encode_basic_auth(auth[0], auth[1])
        timeout = self.timeout if timeout is None else timeout
        async with self.session.request(
            method.upper(),
            rewrite_url(url, self.api_base),
            params=params,
            data=data,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=timeout),
            allow_redirects=allow_redirects,
        ) as response:
            text = await response.text()
        self._test_only_last_response = Response(response.status, text, response.headers)
        return self._test_only_last_response


def make_client(
    account_sid: str,
    auth_token: str,
    api_base: Optional[str] = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Client:
    """A sync twilio ``Client``; ``api_base`` defaults to ``TWILIO_API_BASE`` or Twilio."""
    http_client = BaseUrlHttpClient(api_base or api_base_from_env(), timeout=timeout)
    return Client(account_sid, auth_token, http_client=http_client)


def make_async_client(
    account_sid: str,
    auth_token: str,
    api_base: Optional[str] = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_connections: int = 100,
) -> Client:
    """A twilio ``Client`` for ``*_async`` calls. Close with ``await close_async_client(c)``."""
    http_client = AsyncBaseUrlHttpClient(
        api_base or api_base_from_env(), timeout=timeout, max_connections=max_connections
    )
    return Client(account_sid, auth_token, http_client=http_client)


async def close_async_client(client: Client) -> None:
    """Close the keep-alive session of a client made by ``make_async_client``."""
    await client.http_client.close()
