"""The script of a vaccination day, played by many sites at once through the real endpoints.

Each site's staff open a session, verify each beneficiary who turns up (by OTP from the simulator's
record, or the appointment's security code), report the dose (with typos, Bengali digits, Twilio
retries and human resends), undo and redo a mistake, ask for the count and close the session.
Beneficiaries who do not come reply YES, NO or STOP. Vaccinators write dose numbers as ordinals
(`1st`, `১ম`, `पहली`), sometimes send dose 2 for someone with no dose 1 (refused), send UNDO twice in
a row (the second must void nothing); a verifier reports a SEVERE side effect in the observation
area and a beneficiary reports one on USSD. What the day should end with is kept in
`Expectation`, which the report checks against the database and the simulator.
"""
from __future__ import annotations

import random
import re
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import requests

from tikabot.rehearsal.sms_client import SignedSms
from tikabot.rehearsal.ussd_client import UssdPhone

BN_DIGITS = str.maketrans("0123456789", "০১২৩৪৫৬৭৮৯")
OTP_IN_BODY = re.compile(r"(?<!\d)(\d{6})(?!\d)")
OTP_WAIT_S = 10
VERIFY_PER_STAFF = 25  # under the 30 VERIFY per staff phone per hour that tikabot.codes.otp allows
ORDINAL_DOSE_ONE = ("DOSE {ref} 1st", "ডোজ {bn} ১ম", "टीका {ref} पहली", "dose {ref} first", "ডোজ {ref} প্রথম")
DOSE_TWO_FIRST = ("DOSE {ref} 2nd", "ডোজ {bn} দ্বিতীয়", "टीका {ref} दूसरी", "DOSE {ref} 2")
SEVERE_BY_VERIFIER_AT, SEVERE_BY_USSD_AT = 2, 5  # which attending person at each site


@dataclass
class Expectation:
    doses: set[str] = field(default_factory=set)  # refs that must end with one dose 1
    otp_latencies: list[float] = field(default_factory=list)
    inbound_latencies: list[float] = field(default_factory=list)
    http_errors: list[str] = field(default_factory=list)
    otp_not_arrived: int = 0
    severe: set[str] = field(default_factory=set)  # refs with a SEVERE side effect reported
    undo_twice: int = 0  # times a vaccinator sent UNDO twice in a row
    requests: int = 0
    ussd_requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def request(self, status: int, seconds: float, what: str) -> None:
        with self.lock:
            self.requests += 1
            self.inbound_latencies.append(seconds)
            if status != 200:
                self.http_errors.append(f"{status} on {what}")


@dataclass
class SitePlan:
    code: str
    vaccinator: str
    verifier: str
    attending: list[dict]  # beneficiary rows
    absent: list[dict]
    staff: list[str] = field(default_factory=list)  # every staff phone at the site


class Day:
    def __init__(self, sms: SignedSms, sim_url: str, security_codes: dict[str, str], seed: int,
                 on_progress=lambda n: None, ussd_token: str | None = None):
        self.sms = sms
        self.ussd_token = ussd_token
        self.sim_url = sim_url
        self.codes = security_codes
        self.seed = seed
        self._progress = on_progress
        self._progress_lock = threading.Lock()
        self.expect = Expectation()
        self._local = threading.local()
        self.stopping = threading.Event()  # Ctrl-C: every site stops after its current beneficiary

    def on_progress(self, n: int) -> None:
        with self._progress_lock:
            self._progress(n)

    # --- one site -----------------------------------------------------------------------
    def run_site(self, plan: SitePlan) -> None:
        rng = random.Random(f"{self.seed}-{plan.code}")
        self.text(plan.vaccinator, "START COVISHIELD 4120Z025")
        verifies = defaultdict(int)
        for n, person in enumerate(plan.attending):
            if self.stopping.is_set():
                return
            # a day's VERIFYs are spread over the site's staff, as the hourly limit per phone expects
            verifier = min(plan.staff or [plan.verifier], key=lambda phone: verifies[phone])
            by_code = verifies[verifier] >= VERIFY_PER_STAFF
            verifies[verifier] += not by_code
            self.verify(verifier, person, rng, by_code)
            self.report_dose(plan.vaccinator, person, rng)
            if n == SEVERE_BY_VERIFIER_AT:  # seen in the observation area
                self.text(plan.verifier, f"AEFI {person['ref']} SEVERE fainted in observation")
                with self.expect.lock:
                    self.expect.severe.add(person["ref"])
            elif n == SEVERE_BY_USSD_AT and self.ussd_token:  # at home: breathing trouble, on USSD
                self.ussd_severe(person)
            if n % 40 == 39:
                self.text(plan.vaccinator, "COUNT")
            self.on_progress(1)
        for person in plan.absent:
            if self.ussd_token and rng.random() < 0.3:  # asks for the appointment on USSD
                phone = self._ussd_phone(person["phone"])
                self.ussd_step(phone.dial, "USSD menu")
                self.ussd_step(lambda: phone.press("1"), "USSD appointment")
            else:
                self.text(person["phone"], rng.choice(["YES", "NO", "STOP", "হ্যাঁ", "2", "kab hai?"]))
            self.on_progress(1)
        self.text(plan.vaccinator, "END")

    def verify(self, verifier: str, person: dict, rng: random.Random, by_code: bool = False) -> None:
        ref = person["ref"]
        if not by_code and rng.random() < 0.5:
            started = time.time()
            self.text(verifier, f"VERIFY {ref}")
            code = self.wait_for_otp(person["phone"], started)
            if code:
                self.text(verifier, f"OTP {ref} {code}")
                return
            with self.expect.lock:
                self.expect.otp_not_arrived += 1
        code = self.codes.get(ref)  # the security code, from the booking SMS the person got
        if code is not None:  # none when that SMS never arrived: the person has nothing to show
            self.text(verifier, f"OTP {ref} {code}")

    def report_dose(self, vaccinator: str, person: dict, rng: random.Random) -> None:
        ref = person["ref"]
        roll = rng.random()
        if self.ussd_token and roll > 0.94:  # reported on a feature phone's USSD menu instead
            self.ussd_dose(vaccinator, ref, also_by_sms=roll > 0.98)
            with self.expect.lock:
                self.expect.doses.add(ref)
            return
        if roll < 0.05:  # a typo first: a digit missing, so an unknown or too-short REF
            self.text(vaccinator, f"DOSE {ref[:-1]}")
        if 0.4 < roll < 0.45:  # dose 2 by mistake for someone with no dose 1: refused, nothing recorded
            self.text(vaccinator, rng.choice(DOSE_TWO_FIRST).format(ref=ref, bn=ref.translate(BN_DIGITS)))
        if roll < 0.15:  # Bengali digits and the Bengali keyword
            body = f"ডোজ {ref.translate(BN_DIGITS)}"
        elif roll < 0.25:
            body = f"dose {ref[:4]}-{ref[4:]}, 1"
        elif roll < 0.4:  # the dose number as an ordinal: a dose number, never the lot
            body = rng.choice(ORDINAL_DOSE_ONE).format(ref=ref, bn=ref.translate(BN_DIGITS))
        else:
            body = f"DOSE {ref}"
        params = self.sms.payload(vaccinator, body)
        self.post(params, body)
        if rng.random() < 0.05:  # Twilio retries the same webhook
            self.post(params, body + " (provider retry)")
        if rng.random() < 0.05:  # the vaccinator sends it again
            self.text(vaccinator, f"DOSE {ref}")
        if rng.random() < 0.03:  # a mistake, undone and reported again
            self.text(vaccinator, "UNDO")
            self.text(vaccinator, f"DOSE {ref}")
        elif rng.random() < 0.04:  # UNDO twice in a row: the second voids nothing further back
            self.text(vaccinator, "UNDO")
            self.text(vaccinator, "UNDO")
            self.text(vaccinator, f"DOSE {ref}")
            with self.expect.lock:
                self.expect.undo_twice += 1
        with self.expect.lock:
            self.expect.doses.add(ref)

    def ussd_dose(self, vaccinator: str, ref: str, also_by_sms: bool) -> None:
        """Record dose 1 on the staff menu (the session's vaccine and lot apply): 1, REF, 1, confirm.
        Sometimes the same dose is also sent by SMS: it must stay one record."""
        phone = self._ussd_phone(vaccinator)
        for step in (phone.dial, lambda: phone.press("1"), lambda: phone.press(ref),
                     lambda: phone.press("1"), lambda: phone.press("1")):
            if self.ussd_step(step, "USSD dose").startswith("END"):
                break
        if also_by_sms:
            self.text(vaccinator, f"DOSE {ref}")

    def ussd_severe(self, person: dict) -> None:
        """The beneficiary reports a SEVERE side effect on USSD: 3 Side effect, 2 Severe, 2 Breathing."""
        phone = self._ussd_phone(person["phone"])
        for step in (phone.dial, lambda: phone.press("3"), lambda: phone.press("2"), lambda: phone.press("2")):
            if self.ussd_step(step, "USSD side effect").startswith("END"):
                break
        with self.expect.lock:
            self.expect.severe.add(person["ref"])

    def _ussd_phone(self, number: str) -> UssdPhone:
        http = getattr(self._local, "http", None) or requests.Session()
        self._local.http = http
        return UssdPhone(self.sms.url.rsplit("/sms/", 1)[0], self.ussd_token, number, http)

    def ussd_step(self, step, what: str) -> str:
        try:
            status, text, seconds = step()
        except requests.RequestException as exc:
            with self.expect.lock:
                self.expect.http_errors.append(f"{type(exc).__name__} on {what}")
            return "END"
        self.expect.request(status, seconds, what)
        with self.expect.lock:
            self.expect.ussd_requests += 1
        return text

    # --- transport ------------------------------------------------------------------------
    def text(self, sender: str, body: str) -> str:
        return self.post(self.sms.payload(sender, body), body)

    def post(self, params: dict[str, str], what: str) -> str:
        try:
            status, reply, seconds = self.sms.send(params)
        except requests.RequestException as exc:
            with self.expect.lock:
                self.expect.http_errors.append(f"{type(exc).__name__} on {what}")
            return ""
        self.expect.request(status, seconds, what.split(" ")[0])
        return reply

    def wait_for_otp(self, phone: str, since: float) -> str | None:
        http = getattr(self._local, "http", None) or requests.Session()
        self._local.http = http
        deadline = time.time() + OTP_WAIT_S
        while time.time() < deadline:
            found = http.get(f"{self.sim_url}/_sim/sms", params={"to": phone}, timeout=10).json()  # any route
            for message in found:
                match = OTP_IN_BODY.search(message["body"])
                if match and message["created"] >= since - 1:
                    with self.expect.lock:
                        self.expect.otp_latencies.append(max(0.0, message["created"] - since))
                    return match.group(1)
            time.sleep(0.05)
        return None

    def run(self, plans: list[SitePlan], threads: int) -> Expectation:
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="site") as pool:
            futures = [pool.submit(self.run_site, plan) for plan in plans]
            try:
                for future in futures:
                    future.result()
            except BaseException:
                self.stopping.set()
                raise
        return self.expect


def plan_sites(district, rng: random.Random, attend_share: float = 0.85) -> list[SitePlan]:
    by_site = defaultdict(list)
    for person in district.beneficiaries:
        by_site[person["site_code"]].append(person)
    plans = []
    for site in district.sites:
        staff = [s for s in district.staff if s["site_code"] == site["code"]]
        people = by_site[site["code"]]
        attending = [p for p in people if rng.random() < attend_share]
        absent = [p for p in people if p not in attending]
        plans.append(SitePlan(site["code"], next(s["phone"] for s in staff if s["role"] == "vaccinator"),
                              next(s["phone"] for s in staff if s["role"] == "verifier"), attending, absent,
                              [s["phone"] for s in staff]))
    return plans
