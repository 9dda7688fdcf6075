"""The Simulator: configuration, records and the in-process API tests use."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import time
from typing import Any, Callable, Optional

import aiohttp

from tikabot.simulator.callbacks import CallbackSender
from tikabot.simulator.cdac_api import CdacState
from tikabot.simulator.exotel_api import ExotelState
from tikabot.simulator.kannel_api import KannelState
from tikabot.simulator.nic_api import NicState
from tikabot.simulator.smsgate_api import SmsGateState, ping_loop
from tikabot.simulator.config import FaultConfig, spread_fail_rate
from tikabot.simulator.faults import FaultPicker, final_status
from tikabot.simulator.fhir_store import FhirStore
from tikabot.simulator.records import CallRecord, MessageRecord, Recorder
from tikabot.i18n.encoding import segments as count_segments
from tikabot.simulator.telegram_updates import TelegramState


def new_sid(prefix: str) -> str:
    return prefix + os.urandom(16).hex()


class Simulator:
    def __init__(self, config: Optional[FaultConfig] = None,
                 on_message: Optional[Callable[[MessageRecord], None]] = None) -> None:
        self.initial_config = config or FaultConfig()
        self.config = self.initial_config.updated({})
        self.faults = FaultPicker(self.config.seed)
        self.records = Recorder()
        self.fhir = FhirStore()  # the simulated FHIR registry's records
        self.telegram = TelegramState(self)
        self.callbacks = CallbackSender(self)
        self.smsgate = SmsGateState()  # the simulated gateway phones' sends and webhooks
        self.exotel = ExotelState()
        self.cdac = CdacState()
        self.nic = NicState()
        self.kannel = KannelState()
        self.on_message = on_message
        self.loop: Optional[asyncio.AbstractEventLoop] = None
        self.http: Optional[aiohttp.ClientSession] = None
        self.pinger: Optional[asyncio.Task] = None

    # --- lifecycle, run on the server's event loop ---------------------------------
    async def start(self, _app=None) -> None:
        self.loop = asyncio.get_running_loop()
        self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100))
        self.pinger = self.loop.create_task(ping_loop(self))  # idle unless smsgate_ping_interval_s is set

    async def close(self, _app=None) -> None:
        if self.pinger is not None:
            self.pinger.cancel()
            await asyncio.gather(self.pinger, return_exceptions=True)
        await self.callbacks.cancel_all()
        await self.telegram.cancel_all()
        if self.http is not None:
            await self.http.close()

    def _on_loop(self, fn: Callable, *args: Any) -> Any:
        """Run ``fn`` on the server loop (from any thread) and return its result."""
        loop = self.loop
        if loop is None or not loop.is_running() or _in_loop_thread(loop):
            return fn(*args)
        future: concurrent.futures.Future = concurrent.futures.Future()

        def call() -> None:
            try:
                future.set_result(fn(*args))
            except BaseException as exc:  # handed back to the calling thread
                future.set_exception(exc)

        loop.call_soon_threadsafe(call)
        return future.result(timeout=5)

    # --- Twilio ---------------------------------------------------------------------
    def create_message(self, account_sid: str, form) -> MessageRecord:
        config = self.config
        now = time.time()
        to = form.get("To", "")
        error_code = self.faults.delivery_error(config, to)
        status = final_status(error_code)
        sent_at = None if status == "failed" else now + config.sent_delay_s
        final_at = (sent_at or now) + (config.delivered_delay_s if sent_at else config.sent_delay_s)
        validity = form.get("ValidityPeriod")
        body = form.get("Body", "")
        record = MessageRecord(
            sid=new_sid("SM"), account_sid=account_sid, to=to, from_=form.get("From"),
            body=body, messaging_service_sid=form.get("MessagingServiceSid"),
            status_callback=form.get("StatusCallback"),
            validity_period=int(validity) if validity else None,
            num_segments=count_segments(body), created=now, sent_at=sent_at,
            final_at=final_at, final_status=status, error_code=error_code,
        )
        self.records.add_message(record)
        if record.status_callback:
            self.callbacks.schedule(record)
        if self.on_message is not None:
            self.on_message(record)
        return record

    def create_call(self, account_sid: str, form) -> CallRecord:
        record = CallRecord(
            sid=new_sid("CA"), account_sid=account_sid, to=form.get("To", ""),
            from_=form.get("From", ""), twiml=form.get("Twiml"), url=form.get("Url"),
            status_callback=form.get("StatusCallback"), created=time.time(),
        )
        self.records.add_call(record)
        return record

    # --- in-process API for tests ---------------------------------------------------
    def configure(self, fail_rate: Optional[float] = None, **changes: Any) -> FaultConfig:
        """Change the running configuration; ``fail_rate`` spreads over all fault kinds."""
        if fail_rate is not None:
            changes = {**spread_fail_rate(fail_rate), **changes}
        self.config = self.config.updated(changes)
        if "seed" in changes:
            self.faults = FaultPicker(self.config.seed)
        if "telegram_down" in changes:
            self._on_loop(self.telegram.wake)  # a long poll in progress meets the outage too
        return self.config

    def reset(self, config: bool = False) -> None:
        """Forget everything received; with ``config`` also restore the start config."""
        self.records.reset()
        self.fhir.reset()
        self.smsgate.reset()
        self.exotel.reset()
        self.cdac.reset()
        self.nic.reset()
        self.kannel.reset()
        self._on_loop(self.telegram.reset)
        if config:
            self.config = self.initial_config.updated({})
            self.faults = FaultPicker(self.config.seed)

    def messages(self, to: Optional[str] = None) -> list[dict]:
        now = time.time()
        return [m.view(now) for m in self.records.messages() if to is None or m.to == to]

    def calls(self) -> list[dict]:
        return [c.view() for c in self.records.calls()]

    def telegram_calls(self, method: Optional[str] = None) -> list[dict]:
        return [t for t in self.records.telegram_calls() if method is None or t["method"] == method]

    def callback_log(self) -> list[dict]:
        return self.records.callbacks()

    def inject_update(self, update: dict) -> dict:
        """Queue a Telegram update (full Update, or shorthand chat_id/text)."""
        return self._on_loop(self.telegram.add_update, update)

    def stats(self) -> dict:
        now = time.time()
        statuses: dict[str, int] = {}
        for record in self.records.messages():
            status = record.status_at(now)
            statuses[status] = statuses.get(status, 0) + 1
        return {"counts": self.records.counts(), "message_statuses": statuses}


def _in_loop_thread(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False

