"""What the simulator received: messages, calls, Telegram calls, callback attempts."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Optional


@dataclass(slots=True)
class MessageRecord:
    sid: str
    account_sid: str
    to: str
    from_: Optional[str]
    body: str
    messaging_service_sid: Optional[str]
    status_callback: Optional[str]
    validity_period: Optional[int]
    num_segments: int
    created: float  # epoch seconds
    sent_at: Optional[float]  # None when the message fails before leaving
    final_at: float
    final_status: str  # delivered, undelivered or failed
    error_code: Optional[int]

    @property
    def initial_status(self) -> str:
        return "accepted" if self.messaging_service_sid and not self.from_ else "queued"

    def status_at(self, now: float) -> str:
        if now >= self.final_at:
            return self.final_status
        if self.sent_at is not None and now >= self.sent_at:
            return "sent"
        return self.initial_status

    def error_at(self, now: float) -> Optional[int]:
        return self.error_code if now >= self.final_at else None

    def date_sent(self) -> float:
        return self.sent_at if self.sent_at is not None else self.created

    def view(self, now: float) -> dict:
        """Plain form for tests and the control endpoints."""
        data = asdict(self)
        data["from"] = data.pop("from_")
        data["status"] = self.status_at(now)
        return data


@dataclass(slots=True)
class CallRecord:
    sid: str
    account_sid: str
    to: str
    from_: str
    twiml: Optional[str]
    url: Optional[str]
    status_callback: Optional[str]
    created: float

    def view(self) -> dict:
        data = asdict(self)
        data["from"] = data.pop("from_")
        return data


class Recorder:
    """Thread-safe store: the server loop writes, tests in other threads read."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._messages: dict[str, MessageRecord] = {}
            self._calls: list[CallRecord] = []
            self._telegram: list[dict] = []
            self._callbacks: list[dict] = []
            self._counts: Counter = Counter()

    def count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._counts[name] += n

    def add_message(self, record: MessageRecord) -> None:
        with self._lock:
            self._messages[record.sid] = record
            self._counts["messages_created"] += 1

    def message(self, sid: str) -> Optional[MessageRecord]:
        return self._messages.get(sid)

    def messages(self) -> list[MessageRecord]:
        with self._lock:
            return list(self._messages.values())

    def add_call(self, record: CallRecord) -> None:
        with self._lock:
            self._calls.append(record)
            self._counts["calls_created"] += 1

    def call(self, sid: str) -> Optional[CallRecord]:
        return next((c for c in self.calls() if c.sid == sid), None)

    def calls(self) -> list[CallRecord]:
        with self._lock:
            return list(self._calls)

    def add_telegram(self, entry: dict) -> None:
        with self._lock:
            self._telegram.append(entry)
            self._counts["telegram_requests"] += 1

    def telegram_calls(self) -> list[dict]:
        with self._lock:
            return list(self._telegram)

    def add_callback(self, entry: dict) -> None:
        with self._lock:
            self._callbacks.append(entry)
            self._counts["callbacks_" + entry["outcome"]] += 1

    def callbacks(self) -> list[dict]:
        with self._lock:
            return list(self._callbacks)

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)
