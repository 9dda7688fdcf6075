"""Settings read from the environment (and a `.env` file), one dataclass for the whole app."""
from __future__ import annotations

import ipaddress
import json
import os
import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from dotenv import load_dotenv

from tikabot.core.quiet_hours import parse_quiet_hours, quiet_hours_text
from tikabot.core.phones import BadPhone, normalise
from tikabot.i18n.catalog import LANGUAGES
from tikabot.i18n.encoding import GSM7_BASIC, GSM7_EXTENSION

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


def networks(name: str, raw: str) -> tuple[str, ...]:
    """'164.100.14.0/24, 10.0.0.5' -> ('164.100.14.0/24', '10.0.0.5/32'): addresses or networks,
    comma-separated; a bad one is refused with one line naming the variable."""
    found = []
    for part in raw.split(","):
        if part.strip():
            try:
                found.append(str(ipaddress.ip_network(part.strip(), strict=False)))
            except ValueError:
                raise ValueError(f"{name}: {part.strip()!r} is not an IP address or network") from None
    return tuple(dict.fromkeys(found))


EX_CONFIG = 78  # sysexits.h: a configuration error, which starting again cannot mend (the units' RestartPreventExitStatus)

TRUSTED_PROXIES_DEFAULT = "127.0.0.1,::1"  # nginx on the same machine (deploy/nginx), and gunicorn's own default


def trusted_proxies(environ) -> tuple[str, ...]:
    """TIKABOT_TRUSTED_PROXIES: our reverse proxies, the only peers whose X-Forwarded-For is read, by
    the access log (gunicorn's forwarded_allow_ips), C-DAC's pull and NIC's report source checks alike
    (core/proxies.py). Default: this machine. CDAC_TRUSTED_PROXIES is its older name and still read;
    both set to different proxies is refused, naming both."""
    given = {name: networks(name, value) for name in ("TIKABOT_TRUSTED_PROXIES", "CDAC_TRUSTED_PROXIES")
             if (value := (environ.get(name) or "").strip())}
    if len(given) == 2 and len(set(map(frozenset, given.values()))) == 2:
        raise ValueError("TIKABOT_TRUSTED_PROXIES and CDAC_TRUSTED_PROXIES name different proxies: set "
                         "TIKABOT_TRUSTED_PROXIES only (CDAC_TRUSTED_PROXIES is its older name)")
    return next(iter(given.values()), None) or networks("TIKABOT_TRUSTED_PROXIES", TRUSTED_PROXIES_DEFAULT)


DLT_BRAND_MAX = 30  # characters: a department's short name, not a sentence


def dlt_brand_problem(name: str, value: str, lang: str) -> str | None:
    """Why one brand setting cannot end every DLT message of lang; None when it can."""
    if "\n" in value or "\r" in value:
        return f"{name}: the brand is one line; take out the line break"
    text = value.strip()
    if not text:
        return f"{name} is empty: give the department's name (e.g. 'Kerala Health'), or unset it"
    if len(text) > DLT_BRAND_MAX:
        return (f"{name}: {text!r} is {len(text)} characters, at most {DLT_BRAND_MAX}: every DLT message carries it, "
                "so use the department's short name")
    if "{" in text or "}" in text:
        return f"{name}: {text!r} has a {{ or }}, which a DLT template reads as a variable: take it out"
    if lang == "en":
        off = "".join(dict.fromkeys(ch for ch in text if ch not in GSM7_BASIC and ch not in GSM7_EXTENSION))
        if off:
            return (f"{name}: {text!r} has characters outside GSM-7 ({off}), which would send every English SMS as "
                    "UCS-2 (70 characters a part instead of 160): write the English brand in plain Latin letters"
                    + (" (TIKABOT_DLT_BRAND_EN), and the Bengali or Hindi one in TIKABOT_DLT_BRAND_BN/_HI"
                       if name == "TIKABOT_DLT_BRAND" else ""))
    return None


def dlt_brand(get) -> dict[str, str]:
    """TIKABOT_DLT_BRAND (every language) and TIKABOT_DLT_BRAND_EN/_BN/_HI (that language instead):
    the department's name a DLT route ends every message with (" - NAME"). lang -> name for each
    language one of them names; {} when none is set, and the catalog's `dlt.brand` stands (" - WB
    Health"). A bad value is refused with one line naming the variable. get(name) -> str | None."""
    found = {}
    for lang in LANGUAGES:
        for name in (f"TIKABOT_DLT_BRAND_{lang.upper()}", "TIKABOT_DLT_BRAND"):
            value = get(name)
            if value is None:
                continue
            problem = dlt_brand_problem(name, value, lang)
            if problem:
                raise ValueError(problem)
            found[lang] = value.strip()
            break
    return found


CDAC_PULL_TOKEN_MIN = 32


def check_cdac(config) -> None:
    """C-DAC settings that cannot work together are refused at start, naming what to set."""
    push = {"CDAC_USERNAME": config.cdac_username, "CDAC_PASSWORD": config.cdac_password,
            "CDAC_SECURE_KEY": config.cdac_secure_key}
    if any(push.values()) and not all(push.values()):
        missing = ", ".join(name for name, value in push.items() if not value)
        raise ValueError(f"C-DAC push needs CDAC_USERNAME, CDAC_PASSWORD and CDAC_SECURE_KEY together; missing: {missing}")
    pull = config.cdac_pull_token or config.cdac_pull_sources or config.cdac_keyword
    if not pull:
        return
    if len(config.cdac_pull_token or "") < CDAC_PULL_TOKEN_MIN:
        raise ValueError(f"CDAC_PULL_TOKEN must be a random secret of at least {CDAC_PULL_TOKEN_MIN} characters: "
                         "MSDG signs nothing, the token in the pull URL (with its source address) is what proves it")
    if not config.cdac_pull_sources:
        raise ValueError("CDAC_PULL_SOURCES must name MSDG's address(es): pull SMS are taken only from them")
    if not (config.cdac_keyword or "").strip():
        raise ValueError("CDAC_KEYWORD must be the state's keyword (e.g. 'WB TIKA') that pull SMS start with")
    if not config.cdac_username:
        raise ValueError("C-DAC pull SMS are answered by push: set CDAC_USERNAME, CDAC_PASSWORD and CDAC_SECURE_KEY")


@dataclass(frozen=True)
class GatewayPhone:
    """One Android phone running SMS Gateway for Android. Secrets stay out of repr (and so out of logs)."""
    id: str  # ours: names the phone in logs, in `via` ("android:<id>") and in its Redis health keys
    url: str  # local server "http://PHONE:8080", or the cloud API ".../3rdparty/v1"
    username: str = field(default="", repr=False)
    password: str = field(default="", repr=False)
    signing_key: str = field(default="", repr=False)
    per_minute: float = 6.0  # what its SIM may send; Android itself allows 30 SMS in 30 minutes unless raised
    sim: int | None = None  # which SIM slot sends (1-3); None: the phone's default


SECRET_FIELDS = frozenset({
    "twilio_auth_token", "telegram_bot_token", "telegram_webhook_secret", "ussd_token", "otp_secret",
    "exotel_api_key", "exotel_api_token", "exotel_callback_token", "exotel_callback_password",
    "cdac_password", "cdac_secure_key", "cdac_pull_token",
    "nic_pin", "nic_callback_token", "kannel_password", "kannel_callback_token"})
URL_FIELDS = frozenset({"database_url", "redis_url"})  # may carry a password: user:PASSWORD@host
URL_PASSWORD = re.compile(r"(?<=://)([^:/@]*):[^@/]*@")


def hide_url_password(url: str | None) -> str | None:
    """`postgresql+psycopg://tika:s3cret@db/tikabot` -> `postgresql+psycopg://tika:***@db/tikabot`."""
    return URL_PASSWORD.sub(r"\1:***@", url) if url else url


PHONE_ID = re.compile(r"^[A-Za-z0-9_-]{1,24}$")


def gateway_phones(environ) -> tuple[GatewayPhone, ...]:
    """SMSGATE_URL/_USERNAME/_PASSWORD/_SIGNING_KEY/_PER_MINUTE (one phone, id SMSGATE_ID or "phone1"),
    and SMSGATE_PHONES: a JSON list of objects with the same fields for more phones, e.g.
    [{"id": "ranaghat", "url": "http://10.0.0.7:8080", "username": "sms", "password": "...",
      "signing_key": "...", "per_minute": 6, "sim": 1}]."""
    get = lambda name: (environ.get(name) or None)  # noqa: E731
    found = []
    if get("SMSGATE_URL"):
        found.append(GatewayPhone(id=get("SMSGATE_ID") or "phone1", url=get("SMSGATE_URL"),
                                  username=get("SMSGATE_USERNAME") or "", password=get("SMSGATE_PASSWORD") or "",
                                  signing_key=get("SMSGATE_SIGNING_KEY") or "",
                                  per_minute=float(get("SMSGATE_PER_MINUTE") or 6)))
    raw = get("SMSGATE_PHONES")
    if raw:
        try:
            items = json.loads(raw)
            found += [GatewayPhone(**{**item, "id": str(item["id"])}) for item in items]
        except (ValueError, TypeError, KeyError) as exc:
            raise ValueError(f"SMSGATE_PHONES: not a JSON list of phones ({type(exc).__name__})") from None
    for phone in found:
        if not PHONE_ID.match(phone.id):
            raise ValueError(f"SMSGATE phone id {phone.id!r}: use 1-24 letters, digits, - or _")
        if not phone.signing_key:
            raise ValueError(f"SMSGATE phone {phone.id}: a signing key is required (webhooks are refused without one)")
        if bool(phone.username) != bool(phone.password):
            raise ValueError(f"SMSGATE phone {phone.id}: a basic-auth username needs its password, and a password "
                             "its username")
        if phone.per_minute <= 0:
            raise ValueError(f"SMSGATE phone {phone.id}: per_minute must be positive")
    if len({p.id for p in found}) != len(found):
        raise ValueError("SMSGATE_PHONES: two phones have the same id")
    return tuple(found)


@dataclass(frozen=True, repr=False)
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
    # our reverse proxies (TIKABOT_TRUSTED_PROXIES): their X-Forwarded-For names the client (core/proxies.py)
    trusted_proxies: tuple[str, ...] = ("127.0.0.1/32", "::1/128")
    ussd_token: str | None = None
    otp_secret: str = DEV_OTP_SECRET
    tz: str = "Asia/Kolkata"
    send_rate: float = 10.0
    env: str = "development"
    vaccines_file: str | None = None
    medical_officers: tuple[str, ...] = ()  # phones that get every SEVERE side effect by SMS
    # SMS Gateway for Android: the phones (see gateway_phones) and how long a silent phone stays in rotation
    smsgate_phones: tuple[GatewayPhone, ...] = ()
    smsgate_stale_s: float = 900.0  # no ping or webhook for this long: out of rotation
    smsgate_timeout: float = 10.0
    smsgate_max_wait: float = 5.0  # a reply waits this long at most for its phone's send slot, else re-queued
    # Exotel (Indian aggregator, DLT-compliant domestic route)
    exotel_account_sid: str | None = None
    exotel_api_key: str | None = None
    exotel_api_token: str | None = None
    exotel_api_base: str = "https://api.exotel.com"  # Mumbai cluster: https://api.in.exotel.com
    exotel_sender: str | None = None  # From: the DLT header (e.g. WBHLTH) or the ExoPhone
    exotel_exophone: str | None = None  # the ExoPhone: CallerId for voice calls, where replies arrive
    exotel_dlt_entity_id: str | None = None  # the principal entity id (19 digits), if not on each template
    exotel_call_flow_url: str | None = None  # the call flow (app) a voice OTP call is connected to
    exotel_callback_token: str | None = None  # secret in our callback URLs
    exotel_callback_user: str | None = None  # optional basic auth on callbacks
    exotel_callback_password: str | None = None
    # C-DAC Mobile Seva (MSDG): the state's push account, and its pull SMS (handlers/cdac.py)
    cdac_username: str | None = None
    cdac_password: str | None = None  # sent as its SHA-1, never as it is
    cdac_secure_key: str | None = None  # the department's key from the services portal: signs each message
    cdac_sender_id: str | None = None  # the DLT header, when a template does not name its own
    cdac_api_url: str = "https://msdgweb.mgov.gov.in/esms/sendsmsrequestDLT"
    cdac_pull_token: str | None = None  # the secret in the pull URL registered with MSDG
    cdac_pull_sources: tuple[str, ...] = ()  # MSDG's addresses (or networks) its pull requests come from
    cdac_keyword: str | None = None  # the state's keyword (and sub-keyword) vaccinators start a pull SMS with
    # NIC SMS gateway (handlers/nic.py): the HttpLink account, DLT ids, and who may post its delivery reports
    nic_url: str = "https://smsgw.sms.gov.in/failsafe/HttpLink"
    nic_username: str | None = None
    nic_pin: str | None = None
    nic_signature: str | None = None  # the DLT header (sender id), e.g. WBHLTH, when a template names none
    nic_dlt_entity_id: str | None = None  # the principal entity id (19 digits), when a template names none
    nic_callback_token: str | None = None  # secret in the delivery-report URL given to NIC
    nic_allowed_sources: tuple[str, ...] = ()  # addresses/networks NIC's reports may come from; () any
    nic_source_address: str | None = None  # the public address our sends leave from (registered with NIC)
    nic_timeout: float = 10.0
    # Kannel (handlers/kannel.py): smsbox's sendsms and the sendsms-user it authenticates
    kannel_sendsms_url: str | None = None  # http://127.0.0.1:13013/cgi-bin/sendsms
    kannel_username: str | None = None
    kannel_password: str | None = None
    kannel_from: str | None = None  # the sender (DLT header or long code) when a template names none
    kannel_callback_token: str | None = None  # secret in the dlr-url and the sms-service's get-url
    kannel_timeout: float = 10.0
    # which provider routes carry which traffic, in order (tikabot/queue/routes/table.py); "" = Twilio alone
    routes: str = ""
    dlt_routes: str = "exotel,cdac,nic"  # domestic Indian routes: DLT-registered templates only
    # the department's name ending every DLT message, by language (see dlt_brand); {}: the catalog's dlt.brand
    dlt_brand: dict = field(default_factory=dict)
    alert_ack_minutes: float = 15.0  # an alert nobody acknowledged is sent again and escalated after this
    severe_ack_minutes: float = 5.0  # ... and a SEVERE side effect after this
    mobiliser_full_numbers: bool = False  # /site CODE remaining shows a site's mobiliser full numbers
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
            trusted_proxies=trusted_proxies(os.environ),
            ussd_token=_env("USSD_TOKEN"),
            otp_secret=_env("OTP_SECRET", DEV_OTP_SECRET),
            tz=_env("TIKABOT_TZ", cls.tz),
            send_rate=float(_env("SEND_RATE", "10")),
            env=_env("TIKABOT_ENV", cls.env),
            vaccines_file=_env("TIKABOT_VACCINES"),
            medical_officers=medical_officers(_env("TIKABOT_MEDICAL_OFFICERS", "")),
            smsgate_phones=gateway_phones(os.environ),
            smsgate_stale_s=float(_env("SMSGATE_STALE_S", "900")),
            smsgate_timeout=float(_env("SMSGATE_TIMEOUT", "10")),
            smsgate_max_wait=float(_env("SMSGATE_MAX_WAIT", "5")),
            exotel_account_sid=_env("EXOTEL_ACCOUNT_SID"),
            exotel_api_key=_env("EXOTEL_API_KEY"),
            exotel_api_token=_env("EXOTEL_API_TOKEN"),
            exotel_api_base=_env("EXOTEL_API_BASE", cls.exotel_api_base),
            exotel_sender=_env("EXOTEL_SENDER"),
            exotel_exophone=_env("EXOTEL_EXOPHONE"),
            exotel_dlt_entity_id=_env("EXOTEL_DLT_ENTITY_ID"),
            exotel_call_flow_url=_env("EXOTEL_CALL_FLOW_URL"),
            exotel_callback_token=_env("EXOTEL_CALLBACK_TOKEN"),
            exotel_callback_user=_env("EXOTEL_CALLBACK_USER"),
            exotel_callback_password=_env("EXOTEL_CALLBACK_PASSWORD"),
            cdac_username=_env("CDAC_USERNAME"),
            cdac_password=_env("CDAC_PASSWORD"),
            cdac_secure_key=_env("CDAC_SECURE_KEY"),
            cdac_sender_id=_env("CDAC_SENDER_ID"),
            cdac_api_url=_env("CDAC_API_URL", cls.cdac_api_url),
            cdac_pull_token=_env("CDAC_PULL_TOKEN"),
            cdac_pull_sources=networks("CDAC_PULL_SOURCES", _env("CDAC_PULL_SOURCES", "")),
            cdac_keyword=_env("CDAC_KEYWORD"),
            nic_url=_env("NIC_URL", cls.nic_url),
            nic_username=_env("NIC_USERNAME"),
            nic_pin=_env("NIC_PIN"),
            nic_signature=_env("NIC_SIGNATURE"),
            nic_dlt_entity_id=_env("NIC_DLT_ENTITY_ID"),
            nic_callback_token=_env("NIC_CALLBACK_TOKEN"),
            nic_allowed_sources=tuple(p.strip() for p in (_env("NIC_ALLOWED_SOURCES", "") or "").split(",")
                                      if p.strip()),
            nic_source_address=_env("NIC_SOURCE_ADDRESS"),
            nic_timeout=float(_env("NIC_TIMEOUT", "10")),
            kannel_sendsms_url=_env("KANNEL_SENDSMS_URL"),
            kannel_username=_env("KANNEL_USERNAME"),
            kannel_password=_env("KANNEL_PASSWORD"),
            kannel_from=_env("KANNEL_FROM"),
            kannel_callback_token=_env("KANNEL_CALLBACK_TOKEN"),
            kannel_timeout=float(_env("KANNEL_TIMEOUT", "10")),
            routes=_env("TIKABOT_ROUTES", ""),
            dlt_routes=_env("TIKABOT_DLT_ROUTES", cls.dlt_routes),
            dlt_brand=dlt_brand(os.environ.get),
            alert_ack_minutes=float(_env("TIKABOT_ALERT_ACK_MINUTES", "15")),
            severe_ack_minutes=float(_env("TIKABOT_SEVERE_ACK_MINUTES", "5")),
            mobiliser_full_numbers=(_env("TIKABOT_MOBILISER_FULL_NUMBERS", "") or "").lower() in ("1", "true", "yes"),
            spool_dir=_env("TIKABOT_SPOOL_DIR"),
        )
        cfg.check()
        return cfg

    def __repr__(self) -> str:
        """Every field, secrets shown only as set or not (SECRET_FIELDS), URLs without their password:
        a config printed in a traceback or a log line gives nothing away."""
        shown = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in SECRET_FIELDS and value:
                value = "<redacted>"
            elif f.name in URL_FIELDS:
                value = hide_url_password(value)
            elif f.name == "extra":
                value = {k: "<redacted>" for k in value}  # overrides of unknown meaning: names only
            shown.append(f"{f.name}={value!r}")
        return f"Config({', '.join(shown)})"

    def check(self) -> None:
        if self.exotel_callback_user and not self.exotel_callback_password:
            raise ValueError("EXOTEL_CALLBACK_USER is set without EXOTEL_CALLBACK_PASSWORD: basic auth with an empty "
                             "password proves nothing; set both, or neither")
        if self.exotel_callback_password and not self.exotel_callback_user:
            raise ValueError("EXOTEL_CALLBACK_PASSWORD is set without EXOTEL_CALLBACK_USER: set both, or neither")
        if self.env == "production" and self.otp_secret == DEV_OTP_SECRET:
            raise ValueError("OTP_SECRET must be set outside development (TIKABOT_ENV=production)")
        if self.exotel_account_sid and not self.exotel_callback_token:
            raise ValueError("EXOTEL_CALLBACK_TOKEN must be set with EXOTEL_ACCOUNT_SID: Exotel does not sign "
                             "its callbacks, the token in their URL is what proves them")
        check_cdac(self)
        if self.nic_username and not self.nic_callback_token:
            raise ValueError("NIC_CALLBACK_TOKEN must be set with NIC_USERNAME: NIC signs no delivery report, the "
                             "token in its URL is what proves one")
        if self.kannel_sendsms_url and not self.kannel_callback_token:
            raise ValueError("KANNEL_CALLBACK_TOKEN must be set with KANNEL_SENDSMS_URL: Kannel signs nothing, the "
                             "token in the dlr-url and the sms-service's URL is what proves its requests")
        for source in self.nic_allowed_sources:
            try:
                ipaddress.ip_network(source, strict=False)
            except ValueError:
                raise ValueError(f"NIC_ALLOWED_SOURCES: {source!r} is no address or network (write 164.100.14.0/24 "
                                 f"or 164.100.14.5, separated by commas)") from None
        for lang, name in self.dlt_brand.items():  # a Config made in code is held to the same rules
            problem = dlt_brand_problem(f"TIKABOT_DLT_BRAND_{lang.upper()}", name, lang)
            if problem:
                raise ValueError(problem)
        if self.send_rate <= 0:
            raise ValueError("SEND_RATE must be a positive number of messages per second")
        parse_quiet_hours(quiet_hours_text(self.extra))  # said at start, not in the middle of an import

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
