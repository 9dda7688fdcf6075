"""Sample values for every placeholder, to render and measure templates.

Values are realistic worst cases for length where it matters (a 14-digit REF,
a long site name), and exact for the OTP (6-digit code, 10 minutes), which
must fit one SMS segment in every language.
"""

from __future__ import annotations

from tikabot.i18n.catalog import placeholders, template

SAMPLE_PARAMS: dict[str, str] = {
    "allowed": "VERIFY, OTP, AEFI, COUNT, HELP, LANG",
    "command": "DOSE",
    "message": "Dear Rahima, you got dose 1 of COVISHIELD. Your next dose is due on 10 Jul. Thank you.",
    "missing": "1",
    "reporter": "Mita Roy +919830000001",
    "time": "11:05",
    "booked_site": "Barasat SDH",
    "code": "123456",
    "count": "57",
    "date": "12 Jun",
    "digits": "1 2 3 4 5 6",
    "dose": "2",
    "dose1": "48",
    "dose2": "36",
    "due": "120",
    "due_date": "10 Jul",
    "known": "COVISHIELD, COVAXIN",
    "lot": "4120Z025",
    "max": "40",
    "minutes": "10",
    "name": "Rahima",
    "next_dose": "2",
    "next_due": "10 Jul",
    "note": "fainted after 10 min, recovered",
    "phone": "+91XXXXXX4321",
    "ref": "12345678901234",
    "remaining": "36",
    "severity": "severe",
    "site": "Kalyani PHC",
    "sites": "Kalyani PHC, Barasat SDH",
    "slot": "09:00-11:00",
    "state": "ON",
    "summary": "12 reminders, 3 codes",
    "text": "Sessions start at 9 today.",
    "total": "84",
    "tries_left": "2",
    "usage": "DOSE <REF> [DOSE#] [VACCINE] [LOT]",
    "vaccine": "COVISHIELD",
}

# Templates that must fit one SMS segment in every language.
ONE_SEGMENT_KEYS = ("otp.code",)


def sample_params(key: str, lang: str = "en") -> dict[str, str]:
    """Sample values for the placeholders of key in lang."""
    return {name: SAMPLE_PARAMS[name] for name in placeholders(template(key, lang))}
