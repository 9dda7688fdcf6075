"""A synthetic district: sites, staff, beneficiaries with Bengali and Hindi names, appointments.

Used for the sample files in examples/ and by `tikabot rehearse`. Deterministic for a seed.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

import phonenumbers

from tikabot.i18n.numbers import native_digits

BN_GIVEN = ["অমিত", "সুমিতা", "রাজেশ", "মৌমিতা", "সুব্রত", "অনন্যা", "দেবাশিস", "পারমিতা", "সৌরভ", "রুমা",
            "তাপস", "শর্মিষ্ঠা", "অরিজিৎ", "মধুমিতা", "প্রসেনজিৎ", "ঋতুপর্ণা", "কৌশিক", "সঙ্গীতা", "বিশ্বজিৎ", "নন্দিনী"]
BN_FAMILY = ["বন্দ্যোপাধ্যায়", "চট্টোপাধ্যায়", "মুখোপাধ্যায়", "দাস", "ঘোষ", "বসু", "সেন", "মণ্ডল", "রায়", "সরকার",
             "হালদার", "প্রামাণিক", "মাইতি", "বিশ্বাস", "পাল"]
HI_GIVEN = ["राजेश", "सुनीता", "अमित", "पूजा", "विकास", "अनीता", "संजय", "रेखा", "मनोज", "कविता"]
HI_FAMILY = ["शर्मा", "वर्मा", "सिंह", "यादव", "गुप्ता", "प्रसाद", "कुमार", "मिश्रा"]
# each place as Bengali, English and Hindi readers write it (sites.csv name_bn, name_en, name_hi)
PLACES = [("বারাসত", "Barasat", "बारासात"), ("বসিরহাট", "Basirhat", "बसीरहाट"),
          ("ব্যারাকপুর", "Barrackpore", "बैरकपुर"), ("বনগাঁ", "Bangaon", "बनगाँव"), ("দমদম", "Dum Dum", "दमदम"),
          ("হাবড়া", "Habra", "हाबड़ा"), ("বিধাননগর", "Bidhannagar", "बिधाननगर"), ("নৈহাটি", "Naihati", "नैहाटी"),
          ("কামারহাটি", "Kamarhati", "कमरहटी"), ("মধ্যমগ্রাম", "Madhyamgram", "मध्यमग्राम")]
CENTRE = {"bn": "স্বাস্থ্যকেন্দ্র", "en": "Health Centre", "hi": "स्वास्थ्य केंद्र"}
CATEGORIES = ["health worker", "frontline worker", "60+", "45+ comorbid"]
SLOTS = ["09:00-11:00", "11:00-13:00", "13:00-15:00", "15:00-17:00"]


@dataclass
class District:
    sites: list[dict]
    staff: list[dict]
    beneficiaries: list[dict]
    appointments: list[dict]


def indian_mobile(rng: random.Random, used: set[str]) -> str:
    while True:
        candidate = f"+91{rng.choice('6789')}{rng.randrange(10**9):09d}"
        if candidate not in used and phonenumbers.is_valid_number(phonenumbers.parse(candidate)):
            used.add(candidate)
            return candidate


def make_district(sites: int = 3, beneficiaries: int = 50, day: date | None = None, seed: int = 1,
                  hindi_share: float = 0.2) -> District:
    rng = random.Random(seed)
    day = day or date.today()
    used: set[str] = set()
    site_rows = [_site(i) for i in range(sites)]
    staff_rows = []
    for site in site_rows:
        for role in ("vaccinator", "vaccinator", "verifier"):
            staff_rows.append({"phone": indian_mobile(rng, used), "name": _name(rng, "bn"), "role": role,
                               "site_code": site["code"], "language": rng.choice(["bn", "bn", "en"]),
                               "telegram_user_id": ""})
    staff_rows.append({"phone": indian_mobile(rng, used), "name": _name(rng, "bn"), "role": "coordinator",
                       "site_code": "", "language": "en", "telegram_user_id": str(100000 + seed)})
    ben_rows, appt_rows = [], []
    for n in range(beneficiaries):
        lang = "hi" if rng.random() < hindi_share else rng.choice(["bn", "bn", "bn", "en"])
        site = site_rows[n % sites]
        ref = f"{seed % 100:02d}{n + 1:08d}"
        ben_rows.append({"ref": ref, "name": _name(rng, "hi" if lang == "hi" else "bn"),
                         "phone": indian_mobile(rng, used), "language": lang,
                         "category": rng.choice(CATEGORIES), "site_code": site["code"]})
        appt_rows.append({"ref": ref, "site_code": site["code"], "dose": "1", "date": day.isoformat(),
                          "slot": SLOTS[n % len(SLOTS)]})
    return District(site_rows, staff_rows, ben_rows, appt_rows)


def _site(i: int) -> dict:
    names = dict(zip(("bn", "en", "hi"), PLACES[i % len(PLACES)]))
    number = i // len(PLACES) + 1
    named = {lang: f"{names[lang]} {CENTRE[lang]} {native_digits(str(number), lang)}" for lang in names}
    return {"code": f"S{i + 1:03d}", "name": named["bn"], "district": "উত্তর ২৪ পরগনা", "state": "West Bengal",
            "name_en": named["en"], "name_bn": named["bn"], "name_hi": named["hi"]}


def _name(rng: random.Random, lang: str) -> str:
    if lang == "hi":
        return f"{rng.choice(HI_GIVEN)} {rng.choice(HI_FAMILY)}"
    return f"{rng.choice(BN_GIVEN)} {rng.choice(BN_FAMILY)}"
