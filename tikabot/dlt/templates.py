"""Which catalog entries are SMS templates a DLT portal must know, and their texts.

Every entry sent as an SMS on its own, in every language: one row per plural form too (each
form is a different text to the operators). Left out: the coordinator bot's Telegram replies,
USSD screens (the operator's own session, not SMS), keyword aliases, fragments that only ever
appear inside another message, and the voice call's script.
"""
from __future__ import annotations

from dataclasses import dataclass

from tikabot.i18n.catalog import LANGUAGES, all_keys, plural, template
from tikabot.dlt.rules import CATALOG, Brand, signed
from tikabot.i18n.encoding import sms_info

NOT_SMS_PREFIXES = ("bot.", "ussd.", "keyword.", "language.", "severity.", "usage.")
FRAGMENTS = frozenset({"alert.manual_on", "alert.manual_off", "alert.self_report", "otp.voice", "dlt.brand",
                       "alert.site_in_charge", "alert.site_nobody"})  # a site's line inside an alert
# Free text by design (a coordinator's broadcast, a list of failures): no DLT template can hold
# it, so these go on routes without DLT (Twilio, the Android gateway) and never on a domestic one.
FREE_TEXT = {
    "broadcast": "a coordinator's own words",
    "alert.send_failures": "a summary of failures",
    "dose.corrected": "a whole earlier message inside",
    "alert.dlt_unregistered": "a list of templates",
    "alert.severe": "a side effect note in the reporter's words",
    "alert.aefi_severe": "a side effect note in the reporter's words",
}


@dataclass(frozen=True)
class CatalogText:
    key: str
    language: str
    form: int
    text: str  # with {named} placeholders, signed with the brand as a domestic route sends it (dlt/rules.py)

    @property
    def content_type(self) -> str:
        return "Unicode" if sms_info(self.text).encoding == "UCS-2" else "Text"

    @property
    def name(self) -> str:
        """A portal-safe template name: letters, digits and underscores."""
        suffix = f"_{self.form}" if self.form else ""
        return f"tikabot_{self.key.replace('.', '_')}_{self.language}{suffix}"


def sms_keys() -> list[str]:
    return [k for k in all_keys() if not k.startswith(NOT_SMS_PREFIXES) and k not in FRAGMENTS]


def texts(keys=None, brand: Brand = CATALOG) -> list[CatalogText]:
    """Every SMS template text in every language (each plural form once), signed with brand."""
    out = []
    for key in keys if keys is not None else sms_keys():
        for lang in LANGUAGES:
            forms = plural(key, lang)
            variants = list(dict.fromkeys(forms.forms)) if forms is not None else [template(key, lang)]
            out += [CatalogText(key, lang, i, signed(text, lang, brand)) for i, text in enumerate(variants)]
    return out


def registrable(keys=None, brand: Brand = CATALOG) -> list[CatalogText]:
    """The texts a DLT portal can take (free-text templates left out)."""
    return [t for t in texts(keys, brand) if t.key not in FREE_TEXT]
