"""Signed status callbacks: sent, then delivered / undelivered / failed, retried then dropped."""

from __future__ import annotations

import asyncio
import time

import aiohttp
from twilio.request_validator import RequestValidator

from tikabot.simulator.records import MessageRecord
from tikabot.simulator.twilio_shapes import API_VERSION


def callback_params(record: MessageRecord, status: str) -> dict[str, str]:
    params = {
        "AccountSid": record.account_sid,
        "ApiVersion": API_VERSION,
        "From": record.from_ or "",
        "MessageSid": record.sid,
        "MessageStatus": status,
        "SmsSid": record.sid,
        "SmsStatus": status,
        "To": record.to,
    }
    if record.messaging_service_sid:
        params["MessagingServiceSid"] = record.messaging_service_sid
    if status in ("undelivered", "failed") and record.error_code is not None:
        params["ErrorCode"] = str(record.error_code)
    return params


class CallbackSender:
    def __init__(self, sim) -> None:
        self.sim = sim
        self.tasks: set[asyncio.Task] = set()

    def schedule(self, record: MessageRecord) -> None:
        self.track(self._run(record))

    def track(self, coroutine) -> None:
        """Run a callback coroutine on the server loop, held until done and cancelled at close."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def cancel_all(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def _run(self, record: MessageRecord) -> None:
        if record.sent_at is not None:
            await _sleep_until(record.sent_at)
            await self.post(record, "sent")
        await _sleep_until(record.final_at)
        await self.post(record, record.final_status)

    async def post(self, record: MessageRecord, status: str) -> None:
        config = self.sim.config
        url = record.status_callback
        params = callback_params(record, status)
        signature = RequestValidator(config.auth_token).compute_signature(url, params)
        headers = {"X-Twilio-Signature": signature, "User-Agent": "TwilioProxy/1.1"}
        timeout = aiohttp.ClientTimeout(total=config.callback_timeout_s)
        attempts = config.callback_retries + 1
        http_status = None
        for attempt in range(1, attempts + 1):
            try:
                async with self.sim.http.post(url, data=params, headers=headers,
                                              timeout=timeout) as response:
                    http_status = response.status
                    await response.read()
                if http_status < 300:
                    self._log(record, status, url, attempt, http_status, "ok")
                    return
            except (aiohttp.ClientError, asyncio.TimeoutError):
                http_status = None
            if attempt < attempts:
                await asyncio.sleep(config.callback_retry_delay_s)
        self._log(record, status, url, attempts, http_status, "dropped")

    def _log(self, record, status, url, attempts, http_status, outcome) -> None:
        self.sim.records.add_callback({
            "sid": record.sid, "status": status, "url": url, "attempts": attempts,
            "http_status": http_status, "outcome": outcome, "at": time.time(),
        })


async def _sleep_until(epoch: float) -> None:
    delay = epoch - time.time()
    if delay > 0:
        await asyncio.sleep(delay)
