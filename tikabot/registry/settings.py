"""Knobs of the registry sync, read from the environment (UPSTREAM_FHIR_BASE and friends)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field


def _text(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _num(name: str, default: float) -> float:
    value = _text(name)
    try:
        return float(value) if value is not None else default
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, not {value!r}") from None


@dataclass(frozen=True)
class RegistrySettings:
    base_url: str | None = None      # unset: nothing syncs
    token: str | None = field(default=None, repr=False)  # sent as "Authorization: Bearer ..." when set
    system: str = "urn:tikabot"      # identifier systems: urn:tikabot:dose, urn:tikabot:beneficiary, ...
    timeout_s: float = 10.0          # per request (connect and read)
    retry_base_s: float = 30.0       # first back-off after a retryable failure; doubles, with jitter
    retry_cap_s: float = 3600.0
    every_s: float = 60.0            # the worker's periodic sync
    stale_s: float = 86400.0         # a record unsynced this long alerts coordinators (once a day)

    @classmethod
    def from_env(cls) -> "RegistrySettings":
        return cls(
            base_url=(_text("UPSTREAM_FHIR_BASE") or "").rstrip("/") or None,
            token=_text("UPSTREAM_FHIR_TOKEN"),
            system=_text("TIKABOT_FHIR_SYSTEM", cls.system).rstrip("/:"),
            timeout_s=_num("UPSTREAM_FHIR_TIMEOUT", cls.timeout_s),
            retry_base_s=_num("TIKABOT_SYNC_RETRY_BASE", cls.retry_base_s),
            every_s=_num("TIKABOT_SYNC_EVERY", cls.every_s),
        )

    def system_for(self, kind: str) -> str:
        """`urn:tikabot` + `dose` -> `urn:tikabot:dose`; `https://x.gov.in/id` -> `https://x.gov.in/id/dose`."""
        return f"{self.system}{':' if self.system.startswith('urn:') else '/'}{kind}"
