"""Sample values for every placeholder, to render and measure templates.

Values are realistic worst cases for length where it matters (a 14-digit REF,
a long site name), and exact for the OTP (6-digit code, 10 minutes), which
must fit one SMS segment in every language.
"""

from __future__ import annotations

from datetime import date

from tikabot.i18n.catalog import placeholders, template
from tikabot.i18n.dates import Slot
from tikabot.i18n.places import PlaceName

LONG_DATE = date(2026, 9, 30)  # September: the longest month name in Bengali and Hindi
SITE = PlaceName("কল্যাণী গ্রামীণ হাসপাতাল", en="Kalyani Rural Hospital", bn="কল্যাণী গ্রামীণ হাসপাতাল",
                 hi="कल्याणी ग्रामीण अस्पताल")
BOOKED_SITE = PlaceName("বারাসত জেলা হাসপাতাল", en="Barasat District Hospital", bn="বারাসত জেলা হাসপাতাল",
                        hi="बारासात जिला अस्पताल")

SAMPLE_PARAMS: dict[str, object] = {
    "booked_site": BOOKED_SITE,
    "allowed": "VERIFY, OTP, AEFI, COUNT, HELP, LANG",
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
    "name": "Rahima",
    "next_dose": 2,
    "next_due": LONG_DATE,
    "note": "fainted after 10 min, recovered",
    "phone": "+91XXXXXX4321",
    "ref": "12345678901234",
    "remaining": 36,
    "severity": "severe",
    "site": SITE,
    "sites": "Kalyani PHC, Barasat SDH",
    "slot": Slot("11:00-13:00"),
    "state": "ON",
    "summary": "12 reminders, 3 codes",
    "text": "Sessions start at 9 today.",
    "total": 84,
    "tries_left": 2,
    "usage": "DOSE <REF> [DOSE#] [VACCINE] [LOT]",
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
    "reason": "account_suspended",
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

# Templates that must fit one SMS segment in every language.
ONE_SEGMENT_KEYS = ("otp.code",)


def sample_params(key: str, lang: str = "en") -> dict[str, object]:
    """Sample values for the placeholders of key in lang."""
    return {name: SAMPLE_PARAMS[name] for name in placeholders(template(key, lang))}
