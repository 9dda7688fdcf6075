"""Settings read from the environment (and a `.env` file), one dataclass for the whole app."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from dotenv import load_dotenv

from tikabot.phones import BadPhone, normalise

DEV_OTP_SECRET = "dev-only-otp-secret-change-me"


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def medical_officers(raw: str) -> tuple[str, ...]:
    """TIKABOT_MEDICAL_OFFICERS: phones separated by commas, in any Indian format; one bad number is
    refused with one line when the configuration is read, not skipped in silence on the day."""
    found = []
    for part in raw.split(","):
        if part.strip():
            try:
                found.append(normalise(part))
            except BadPhone as exc:
                raise ValueError(f"TIKABOT_MEDICAL_OFFICERS: {exc}") from None
    return tuple(dict.fromkeys(found))


@dataclass(frozen=True)
class Config:
    database_url: str = "sqlite:///instance/tikabot.db"
    redis_url: str | None = None
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from: str | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_api_base: str = "https://api.twilio.com"
    twilio_timeout: float = 10.0
    telegram_bot_token: str | None = None
    telegram_api_base: str = "https://api.telegram.org"
    telegram_webhook_secret: str | None = None
    public_base_url: str | None = None
    ussd_token: str | None = None
    otp_secret: str = DEV_OTP_SECRET
    tz: str = "Asia/Kolkata"
    send_rate: float = 10.0
    env: str = "development"
    vaccines_file: str | None = None
    medical_officers: tuple[str, ...] = ()  # phones that get every SEVERE side effect by SMS
    # where the web process keeps inbound messages the database cannot take at once (tikabot/inbox/spool.py);
    # unset: a `spool` folder beside a SQLite database file, else instance/spool; "off": no spool
    spool_dir: str | None = None
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, dotenv: bool = True) -> "Config":
        if dotenv:
            load_dotenv(Path.cwd() / ".env", override=False)
        cfg = cls(
            database_url=_env("DATABASE_URL", cls.database_url),
            redis_url=_env("REDIS_URL"),
            twilio_account_sid=_env("TWILIO_ACCOUNT_SID"),
            twilio_auth_token=_env("TWILIO_AUTH_TOKEN"),
            twilio_from=_env("TWILIO_FROM"),
            twilio_messaging_service_sid=_env("TWILIO_MESSAGING_SERVICE_SID"),
            twilio_api_base=_env("TWILIO_API_BASE", cls.twilio_api_base),
            twilio_timeout=float(_env("TWILIO_TIMEOUT", "10")),
            telegram_bot_token=_env("TELEGRAM_BOT_TOKEN"),
            telegram_api_base=_env("TELEGRAM_API_BASE", cls.telegram_api_base),
            telegram_webhook_secret=_env("TELEGRAM_WEBHOOK_SECRET"),
            public_base_url=_env("PUBLIC_BASE_URL"),
            ussd_token=_env("USSD_TOKEN"),
            otp_secret=_env("OTP_SECRET", DEV_OTP_SECRET),
            tz=_env("TIKABOT_TZ", cls.tz),
            send_rate=float(_env("SEND_RATE", "10")),
            env=_env("TIKABOT_ENV", cls.env),
            vaccines_file=_env("TIKABOT_VACCINES"),
            medical_officers=medical_officers(_env("TIKABOT_MEDICAL_OFFICERS", "")),
            spool_dir=_env("TIKABOT_SPOOL_DIR"),
        )
        cfg.check()
        return cfg

    def check(self) -> None:
        if self.env == "production" and self.otp_secret == DEV_OTP_SECRET:
            raise ValueError("OTP_SECRET must be set outside development (TIKABOT_ENV=production)")
        if self.send_rate <= 0:
            raise ValueError("SEND_RATE must be a positive number of messages per second")
        from tikabot.reminders.policy import Policy  # here, not at import: reminders import config users

        Policy.from_config(self)  # a bad TIKABOT_QUIET_HOURS is said at start, not in the middle of an import

    def with_overrides(self, overrides: dict | None) -> "Config":
        if not overrides:
            return self
        names = {f.name for f in fields(self)}
        known = {k: v for k, v in overrides.items() if k in names}
        extra = {**self.extra, **{k: v for k, v in overrides.items() if k not in names}}
        return replace(self, **known, extra=extra)

    @property
    def simulated_provider(self) -> bool:
        """No Twilio credentials: the built-in provider simulator stands in."""
        return not (self.twilio_account_sid and self.twilio_auth_token)
