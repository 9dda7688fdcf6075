"""The small district the runner and USSD tests share: two sites, four beneficiaries.

Rahima (bn) is booked today at Kalyani for dose 1, Amit (en) in two days at Barasat, Lata (hi) had
Covishield 30 days ago (dose 2 due), Jiban (en) had Covaxin 10 days ago (dose 2 too early). Each
test world adds the staff it needs.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from tikabot.codes.appointment import code_hash
from tikabot.store.models import Appointment, Beneficiary, Dose, Site

NOW = datetime(2025, 6, 12, 5, 0, tzinfo=timezone.utc)  # 10:30 in Kolkata
TODAY = date(2025, 6, 12)
TEST_OTP_SECRET = "test-otp-secret"  # the tests' config (conftest.py)


def hashed(beneficiary_id: int, code: str) -> str:
    """A security code as the appointments table keeps it under the tests' OTP_SECRET."""
    return code_hash(TEST_OTP_SECRET, beneficiary_id, code)


PHONES = {"rahima": "+919830011111", "amit": "+919830022222", "lata": "+919830033333", "jiban": "+919830044444"}


@dataclass
class District:
    kal: Site
    bar: Site
    rahima: Beneficiary
    amit: Beneficiary
    lata: Beneficiary
    jiban: Beneficiary


def add_district(s) -> District:
    """Add the sites, people, today's appointments and earlier doses in session `s`."""
    kal = Site(code="KAL", name="Kalyani PHC", district="Nadia", state="WB")
    bar = Site(code="BAR", name="Barasat SDH", district="North 24 Parganas", state="WB")
    s.add_all([kal, bar])
    s.flush()
    rahima = Beneficiary(ref="12345678", name="Rahima Khatun", phone=PHONES["rahima"], language="bn", site_id=kal.id)
    amit = Beneficiary(ref="23456789", name="Amit Das", phone=PHONES["amit"], language="en", site_id=bar.id)
    lata = Beneficiary(ref="34567890", name="Lata Mondal", phone=PHONES["lata"], language="hi", site_id=kal.id)
    jiban = Beneficiary(ref="45678901", name="Jiban Saha", phone=PHONES["jiban"], language="en", site_id=kal.id)
    s.add_all([rahima, amit, lata, jiban])
    s.flush()
    s.add_all([
        Appointment(beneficiary_id=rahima.id, site_id=kal.id, dose_number=1, date=TODAY, slot="09:00-11:00",
                    security_code_hash=hashed(rahima.id, "4321")),
        Appointment(beneficiary_id=amit.id, site_id=bar.id, dose_number=1, date=TODAY + timedelta(days=2),
                    slot="11:00-13:00", security_code_hash=hashed(amit.id, "8765")),
        Dose(beneficiary_id=lata.id, dose_number=1, vaccine="COVISHIELD", lot="L1", site_id=kal.id,
             administered_at=NOW - timedelta(days=30), source="paper"),
        Dose(beneficiary_id=jiban.id, dose_number=1, vaccine="COVAXIN", lot="L2", site_id=kal.id,
             administered_at=NOW - timedelta(days=10), source="paper"),
    ])
    return District(kal, bar, rahima, amit, lata, jiban)
