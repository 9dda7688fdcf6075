"""Drawing faults from a FaultConfig with one seeded random generator."""

from __future__ import annotations

import random
from typing import Optional

from tikabot.simulator.config import API_FAULTS, FHIR_FAULTS, FaultConfig

# Delivery error codes that end as "failed" (never left Twilio); others end "undelivered".
FAILED_CODES = frozenset({30001, 30002, 21610, 21611, 21612, 21614, 21635, 30036})


def final_status(error_code: Optional[int]) -> str:
    if error_code is None:
        return "delivered"
    return "failed" if error_code in FAILED_CODES else "undelivered"


class FaultPicker:
    def __init__(self, seed: Optional[int] = None) -> None:
        self.rng = random.Random(seed)

    def api_fault(self, config: FaultConfig) -> Optional[str]:
        """One of API_FAULTS, or None for a normal answer."""
        if config.next_faults:
            fault = str(config.next_faults.pop(0))
            if fault not in API_FAULTS:
                raise ValueError(f"unknown fault {fault!r}; expected one of {API_FAULTS}")
            return fault
        total = config.rate_429 + config.rate_500 + config.rate_timeout
        if total <= 0:
            return None
        draw = self.rng.random()
        if draw < config.rate_429:
            return "429"
        if draw < config.rate_429 + config.rate_500:
            kind = "500"
        elif draw < total:
            kind = "timeout"
        else:
            return None
        if self.rng.random() < config.fault_after_create:
            return kind + "-created"
        return kind

    def delivery_error(self, config: FaultConfig, to: str) -> Optional[int]:
        forced = config.recipient_delivery_errors.get(to)
        if forced is not None:
            return int(forced)
        if not config.delivery_errors:
            return None
        draw = self.rng.random()
        for code, rate in config.delivery_errors.items():
            draw -= rate
            if draw < 0:
                return int(code)
        return None

    def telegram_429(self, config: FaultConfig) -> bool:
        if config.telegram_429_next > 0:
            config.telegram_429_next -= 1
            return True
        return config.telegram_429_rate > 0 and self.rng.random() < config.telegram_429_rate

    def fhir_fault(self, config: FaultConfig, write: bool, resource_type: str = "") -> Optional[str]:
        """One of FHIR_FAULTS, or None. Queued faults hit the next request (`500@Immunization`: the
        next request on that type); random ones hit only writes."""
        if config.fhir_next_faults:
            fault, _, only = str(config.fhir_next_faults[0]).partition("@")
            if fault not in FHIR_FAULTS:
                raise ValueError(f"unknown FHIR fault {fault!r}; expected one of {FHIR_FAULTS}")
            if not only or only == resource_type:
                config.fhir_next_faults.pop(0)
                return fault
            return None
        total = config.fhir_rate_500 + config.fhir_rate_timeout
        if not write or total <= 0:
            return None
        draw = self.rng.random()
        if draw >= total:
            return None
        kind = "500" if draw < config.fhir_rate_500 else "timeout"
        return kind + "-written" if self.rng.random() < config.fault_after_create else kind
