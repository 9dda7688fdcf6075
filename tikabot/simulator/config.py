"""What the simulator does: credentials, delays and fault probabilities."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, Optional

# Twilio's test-credential magic numbers: To -> error code at create time.
MAGIC_RECIPIENTS = {
    "+15005550001": 21211,
    "+15005550002": 21612,
    "+15005550003": 21408,
    "+15005550004": 21610,
    "+15005550009": 21614,
}

DELIVERY_CODES = (30001, 30003, 30005, 30006, 30007, 30008, 30500, 21610)

# Names accepted in FaultConfig.next_faults, consumed one per Messages/Calls create.
API_FAULTS = ("429", "500", "500-created", "timeout", "timeout-created")
# Names accepted in FaultConfig.fhir_next_faults, consumed one per FHIR request (fhir_api.py):
# "-written" ones answer badly after the write happened, "422" refuses with an OperationOutcome.
FHIR_FAULTS = ("500", "500-written", "timeout", "timeout-written", "429", "422", "slow")
# Values of FaultConfig.telegram_down: how Telegram answers while it is out ("502": its front's error
# page), ("401") every call refused as Telegram refuses a token revoked in @BotFather, or ("409")
# every poll refused as when a second process polls with the same token.
TELEGRAM_OUTAGES = ("502", "401", "409")


@dataclass
class FaultConfig:
    account_sid: str = "AC" + "0" * 32
    auth_token: str = "simulator-auth-token"
    check_auth: bool = True
    seed: Optional[int] = None

    # Twilio API faults, each a probability per create request.
    rate_429: float = 0.0
    rate_500: float = 0.0
    rate_timeout: float = 0.0
    # Share of 500s and timeouts that happen after the message was created.
    fault_after_create: float = 0.5
    # How long a "timeout" keeps the client waiting (longer than its timeout).
    timeout_sleep_s: float = 12.0
    # Deterministic faults for tests: consumed in order, see API_FAULTS.
    next_faults: list = field(default_factory=list)
    latency_ms: float = 0.0

    # Delivery: probability of each error code (as a string key) after creation.
    delivery_errors: dict = field(default_factory=dict)
    # To -> error code refused at create time (400), and To -> delivery error code.
    recipient_errors: dict = field(default_factory=lambda: dict(MAGIC_RECIPIENTS))
    recipient_delivery_errors: dict = field(default_factory=dict)

    # Status callbacks.
    sent_delay_s: float = 0.02
    delivered_delay_s: float = 0.05
    callback_timeout_s: float = 5.0
    callback_retries: int = 2
    callback_retry_delay_s: float = 0.2

    # Telegram Bot API.
    telegram_token: Optional[str] = None  # None accepts any token
    telegram_429_rate: float = 0.0
    telegram_429_next: int = 0
    telegram_retry_after: int = 3
    # Telegram out of reach behind its front servers: "502" answers every Bot API call (a long poll
    # in progress too) with nginx's HTML error page, as Telegram does in an outage; None: up.
    telegram_down: Optional[str] = None

    # FHIR R4 registry: each a probability per write (create, update); fault_after_create applies.
    fhir_rate_500: float = 0.0
    fhir_rate_timeout: float = 0.0
    fhir_latency_ms: float = 0.0  # a slow registry: every FHIR request waits this long
    fhir_timeout_sleep_s: float = 12.0  # "timeout" keeps the client waiting this long
    fhir_next_faults: list = field(default_factory=list)  # see FHIR_FAULTS

    # SMS Gateway for Android (smsgate_api.py): phone id -> {"username", "password", "signing_key",
    # "webhook_url"}; numbers -> Android failure reason; faults one per send; phones not answering.
    smsgate_phones: dict = field(default_factory=dict)
    smsgate_failures: dict = field(default_factory=dict)
    smsgate_next_faults: list = field(default_factory=list)
    smsgate_offline: list = field(default_factory=list)
    smsgate_ping_interval_s: float = 0.0  # > 0: every phone not offline pings that often

    # Exotel (exotel_api.py)
    exotel_account_sid: str = "simexotel"
    exotel_api_key: str = "simulator-exotel-key"
    exotel_api_token: str = "simulator-exotel-token"
    exotel_next_faults: list = field(default_factory=list)
    exotel_account_error: Optional[int] = None  # e.g. 403: every request refused (the account is down)
    exotel_delivery_errors: dict = field(default_factory=dict)  # number -> DetailedStatusCode

    # C-DAC Mobile Seva (cdac_api.py)
    cdac_username: str = "simcdac"
    cdac_password: str = "simulator-cdac-password"
    cdac_secure_key: str = "simulator-cdac-secure-key"
    cdac_sender_ids: list = field(default_factory=lambda: ["WBHLTH", "TIKABT"])  # approved headers
    cdac_next_faults: list = field(default_factory=list)  # codes, "500", "timeout", "lost": one per send
    cdac_account_error: Optional[int] = None  # e.g. 403: every send refused (credits exhausted)
    # NIC SMS gateway (nic_api.py)
    nic_username: str = "sim.nic"
    nic_pin: str = "simulator-nic-pin"
    nic_next_faults: list = field(default_factory=list)  # "-2", "-19", "500", "timeout", "lost"
    nic_account_error: Optional[str] = None  # e.g. "-19": every send refused (source address not allowed)
    nic_delivery_errors: dict = field(default_factory=dict)  # number -> UNDELIV | EXPIRED | REJECTD
    nic_dlr_url: Optional[str] = None  # the delivery-report URL registered with the account
    # Kannel's smsbox (kannel_api.py): the sendsms-user, faults one per send, smsbox down
    kannel_username: str = "simkannel"
    kannel_password: str = "simulator-kannel-password"
    kannel_next_faults: list = field(default_factory=list)  # "503", "timeout", "lost"
    kannel_down: Optional[str] = None  # "503" (bearerbox gone) or "unreachable" (smsbox drops connections)
    kannel_delivery_errors: dict = field(default_factory=dict)  # number -> anything: reported not delivered

    def __post_init__(self) -> None:
        if self.telegram_down is not None and self.telegram_down not in TELEGRAM_OUTAGES:
            raise TypeError(f"telegram_down must be one of {TELEGRAM_OUTAGES} or null, not {self.telegram_down!r}")

    def updated(self, changes: dict[str, Any]) -> "FaultConfig":
        """A copy with ``changes`` applied; unknown names raise ``KeyError``."""
        names = {f.name for f in dataclasses.fields(self)}
        unknown = set(changes) - names
        if unknown:
            raise KeyError(f"unknown config fields: {sorted(unknown)}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def spread_fail_rate(fail_rate: float, codes=DELIVERY_CODES) -> dict[str, Any]:
    """Config changes spreading ``fail_rate`` over API faults and delivery errors.

    A quarter become 429s, 15 % 500s, 5 % timeouts and the rest delivery errors split
    evenly across ``codes``. The FHIR registry's writes fail on their own: half the rate as 500s,
    a twentieth as timeouts.
    """
    per_code = fail_rate * 0.55 / len(codes)
    return {
        "rate_429": fail_rate * 0.25,
        "rate_500": fail_rate * 0.15,
        "rate_timeout": fail_rate * 0.05,
        "delivery_errors": {str(code): per_code for code in codes},
        "fhir_rate_500": fail_rate * 0.5,
        "fhir_rate_timeout": fail_rate * 0.05,
    }


def config_with_fail_rate(fail_rate: float, **fields: Any) -> FaultConfig:
    return FaultConfig(**fields).updated(spread_fail_rate(fail_rate))


def india_channels(sim_url: str, tikabot_url: str, phone_ids=("phone1",),
                   callback_token: str = "simulated-exotel-callback-token") -> tuple[dict[str, str], dict[str, Any]]:
    """What a rehearsal needs to run tikabot's Android gateway and Exotel channels against this
    simulator: (environment variables for tikabot, FaultConfig changes for the simulator)."""
    phones = {pid: {"username": "sms", "password": f"sim-{pid}-password", "signing_key": f"sim-{pid}-signing-key",
                    "webhook_url": f"{tikabot_url.rstrip('/')}/channels/smsgate"} for pid in phone_ids}
    env = {
        "SMSGATE_PHONES": json.dumps([{"id": pid, "url": f"{sim_url.rstrip('/')}/smsgate/{pid}",
                                       "username": p["username"], "password": p["password"],
                                       "signing_key": p["signing_key"], "per_minute": 600}
                                      for pid, p in phones.items()]),
        "EXOTEL_ACCOUNT_SID": FaultConfig.exotel_account_sid, "EXOTEL_API_KEY": FaultConfig.exotel_api_key,
        "EXOTEL_API_TOKEN": FaultConfig.exotel_api_token, "EXOTEL_API_BASE": sim_url.rstrip("/"),
        "EXOTEL_SENDER": "TIKABT", "EXOTEL_EXOPHONE": "08047000000",
        "EXOTEL_CALL_FLOW_URL": f"http://my.exotel.com/{FaultConfig.exotel_account_sid}/exoml/start_voice/1",
        "EXOTEL_CALLBACK_TOKEN": callback_token,
    }
    return env, {"smsgate_phones": phones}
