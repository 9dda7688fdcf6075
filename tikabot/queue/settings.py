"""Knobs of the send pipeline. Read from the environment with the rest of the config."""
from __future__ import annotations

import os
from dataclasses import dataclass


def _num(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


@dataclass(frozen=True)
class SendSettings:
    lease_s: float = 60.0            # a sender's hold on a message before the relay takes it back
    max_attempts: int = 5            # per message (OTPs: also bounded by their expiry)
    retry_base_s: float = 2.0        # first back-off; doubles each attempt, with jitter
    retry_cap_s: float = 600.0
    slow_retry_base_s: float = 60.0  # handset unreachable, queue full
    voice_after_s: float = 60.0      # an OTP not delivered by SMS within this is read out by a call
    # Before re-sending after an unknown outcome, ask the provider (and match our id in status
    # callbacks). Off only to show, in bench/chaos_outbox.py, the duplicates it prevents.
    provider_check: bool = True
    # A copy the provider check found still on its way is asked about again this soon (its
    # callbacks may have been missed; see tikabot.queue.recheck).
    recheck_after_s: float = 10.0
    account_pause_s: float = 300.0   # after an account error (20003, 30002), sending waits this long
    relay_interval_s: float = 1.0
    stale_s: float = 60.0            # queued on Redis this long but not in any queue: lost
    failure_alert_bucket_s: float = 600.0  # one grouped alert per this many seconds of failures

    @classmethod
    def from_env(cls) -> "SendSettings":
        return cls(
            lease_s=min(60.0, _num("TIKABOT_SEND_LEASE", cls.lease_s)),
            max_attempts=int(_num("TIKABOT_SEND_MAX_ATTEMPTS", cls.max_attempts)),
            retry_base_s=_num("TIKABOT_RETRY_BASE", cls.retry_base_s),
            slow_retry_base_s=_num("TIKABOT_SLOW_RETRY_BASE", cls.slow_retry_base_s),
            voice_after_s=_num("OTP_VOICE_AFTER", cls.voice_after_s),
            provider_check=os.environ.get("TIKABOT_PROVIDER_CHECK", "1") != "0",
            relay_interval_s=_num("TIKABOT_RELAY_INTERVAL", cls.relay_interval_s),
            stale_s=_num("TIKABOT_STALE_AFTER", cls.stale_s),
        )
