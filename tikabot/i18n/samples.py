"""Sample values for every placeholder, to render and measure templates.

Values are the longest real ones where length matters, in each reader's script: a West Bengal
sub-divisional hospital's name (the longest of the district lists), the widest slot on the half-hour grid as
each language says it, a long first name, a 10-digit REF; and exact for the OTP (6-digit code,
10 minutes), which must fit one SMS segment in every language. `tikabot templates check` measures
every template with these when there is no database (CI), and with the database's longest
real values when there is one (tikabot/dlt/values.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from functools import cache

from tikabot.i18n.catalog import all_keys, placeholders, template
from tikabot.i18n.dates import slot_text
from tikabot.i18n.encoding import sms_info
from tikabot.i18n.places import PlaceName

LONG_DATE = date(2026, 9, 30)  # September: the longest month name in Bengali and Hindi
# The longest real site name in each script, up to the 30 characters a DLT variable holds (a
# longer name cannot go on a DLT route at all): a North 24 Parganas health centre in Bengali, a
# South 24 Parganas sub-divisional hospital in Hindi.
SITE = PlaceName("ব্যারাকপুর স্বাস্থ্যকেন্দ্র ১", en="Barrackpore Health Centre 1",
                 bn="ব্যারাকপুর স্বাস্থ্যকেন্দ্র ১", hi="डायमंड हार्बर अनुमंडल अस्पताल")
BOOKED_SITE = PlaceName("বারাসত জেলা হাসপাতাল", en="Barasat District Hospital", bn="বারাসত জেলা হাসপাতাল",
                        hi="बारासात जिला अस्पताल")



@dataclass(frozen=True)
class PerLanguage:
    """A value that differs by the reader's language (a first name in their script)."""
    by_lang: dict

    def localize(self, lang: str) -> str:
        return self.by_lang.get(lang, self.by_lang["en"])


SESSION_HOURS = (7, 19)  # sessions run between these hours; slots start and end on the half hour


@cache
def widest_slot(lang: str) -> str:
    """The longest way lang says a slot of the session day, of any length, starting and ending on the
    half hour ("সকাল সাড়ে ৯টা–দুপুর সাড়ে ৩টা", "सुबह साढ़े 9 बजे–दोपहर ढाई बजे")."""
    slots = []
    for start in range(SESSION_HOURS[0] * 60, SESSION_HOURS[1] * 60, 30):
        for end in range(start + 30, SESSION_HOURS[1] * 60 + 1, 30):
            slots.append(slot_text(time(start // 60, start % 60), time(end // 60, end % 60), lang))
    return max(slots, key=lambda text: sms_info(text).units)


class WidestSlot:
    """The slot placeholder filled with the widest half-hour slot in the reader's language."""

    def localize(self, lang: str) -> str:
        return widest_slot(lang)


class LongestUsage:
    """staff.usage's {usage}: the longest command syntax (usage.*) in the reader's language."""

    def localize(self, lang: str) -> str:
        return max((template(key, lang) for key in all_keys() if key.startswith("usage.")), key=len)


LONG_NAME = PerLanguage({"en": "Subhrajyoti", "bn": "শুভ্রজ্যোতি", "hi": "विजयलक्ष्मी"})
REF = "7012345678"  # REFs are 10 digits

SAMPLE_PARAMS: dict[str, object] = {
    "booked_site": BOOKED_SITE,
    "command": "DOSE",
    "message": "Dear Rahima, you got dose 1 of COVISHIELD. Your next dose is due on 30 September. Thank you.",
    "missing": "1",
    "reporter": "Mita Roy +919830000001",
    "time": "11:05",
    "code": "123456",
    "user_id": "7012345678",  # a Telegram user id, as an administrator types it into staff.csv
    "count": 57,
    "date": LONG_DATE,
    "digits": "1 2 3 4 5 6",
    "dose": 2,
    "dose1": 48,
    "dose2": 36,
    "due": 120,
    "due_date": LONG_DATE,
    "known": "COVISHIELD, COVAXIN",
    "lot": "4120Z025",
    "max": 40,
    "minutes": 10,
    "name": LONG_NAME,
    "next_dose": 2,
    "next_due": LONG_DATE,
    "note": "fainted after 10 min, recovered",
    "phone": "+91XXXXXX4321",
    "ref": REF,
    "remaining": 36,
    "severity": "severe",
    "site": SITE,
    "sites": "Kalyani PHC, Barasat SDH",
    "slot": WidestSlot(),
    "state": "ON",
    "summary": "12 reminders, 3 codes",
    "text": "Sessions start at 9 today.",
    "total": 84,
    "tries_left": 2,
    "usage": LongestUsage(),
    "vaccine": "COVISHIELD",
    # the coordinator bot's replies (bot.*)
    "arg": "2026-02-30",
    "closed": ", closed 16:10",
    "district": "North 24 Parganas",
    "doses": "doses D1:48, D2:36",
    "encoding": "UCS-2",
    "error": "HTTP 422: error: lot is not in the register",
    "example": "2026-09-30",
    "failed": 3,
    "ids": "1042, 1043, 1051",
    "inactive": " (inactive)",
    "kinds": "appt.reminder_morning 2, appt.booked 1",
    "language": "bn",
    "languages": "en, bn, hi",
    "length": 640,
    "limit": 600,
    "list": "D1:48, D2:36",
    "mode": "sms",
    "open": 12,
    "page": 2,
    "pages": 3,
    "role": "vaccinator",
    "segments": 2,
    "where": "KAL01",
    # routes and DLT (issue 13)
    "route": "exotel",
    # the longest name of an error that takes a route down (alert.route_down; a DLT variable, so
    # at most 30 characters: tests/dlt/test_route_down_cause.py walks every provider's errors)
    "cause": "cdac_secure_key_required",
    "fallback": "twilio",
    "templates": "appt.reminder_eve (bn), dose.confirmation (hi)",
    # issue 18: the coordinator's view
    "share": 46,
    "help": 4,
    "done": 55,
    "expected": 90,
    "mark": "* ",  # a red circle in Telegram; alerts and /status are never SMS templates
    "flags": " - SILENT 95 min",
    "person": "Rina Vaccinator",
    "opened": 3,
    "who": "Asha Sen",
    "people": "Rahima +91******4321, Mita +91******1234",
    "delivered": 7,
    "waiting": 2,
    "again": 1,
    "skipped": 4,
    "reason": "number switched off or out of reach",
    "hint": " (/retry all may reach them now)",
    "kind": "reminder",
    "what": "Retried messages",
}

# Templates that must fit one SMS segment in every language (tikabot/i18n/limits.py holds the rest).
ONE_SEGMENT_KEYS = ("otp.code",)


def sample_params(key: str, lang: str = "en") -> dict[str, object]:
    """Sample values for the placeholders of key in lang."""
    return {name: SAMPLE_PARAMS[name] for name in placeholders(template(key, lang))}
