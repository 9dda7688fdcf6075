"""Benchmark: a site's day on one gateway phone. Do the vaccinators' replies wait behind reminders?

    .venv/bin/python bench/gateway_day.py [--speed 20] [--minutes 30] [--reminders 200]

Three vaccinators (one site each) send START, then report a dose every 40 s for 30 minutes, all
through one Android gateway phone whose SIM sends 6 SMS a minute; 200 reminders (bulk) are queued
on the same phone from the start. End to end through the product: the simulated phone receives
each SMS and posts its signed webhook to our web app (gunicorn) -> inbox -> runner -> outbox ->
`tikabot worker` (send jobs, relay) -> the phone simulator's send API. Replies and reminders go by
the phone (TIKABOT_ROUTES reply=android, reminder=android); confirmations to beneficiaries by Twilio
(the simulator's).

Time is compressed by --speed: every rate and time scales alike (the phone's 6 a minute, the
vaccinators' 40 s, the 30 minutes, the phone's max wait for a slot, the relay's pass, the retry
back-off), so the run takes 30 / speed minutes plus the reminders' tail. Latencies are printed in
real, uncompressed seconds (measured x speed): from posting the webhook to the reply handed to the
phone. What the pipeline itself takes (HTTP, database, Redis) is not compressed, so the printed
latency overstates it by the factor: the figure errs on the safe side.

Prints p50/p99/max reply latency, replies lost and doubled, reminders sent (each once) and when the
last went, the phone's SMS a minute over the day, and CPU by process. Exit status 1 when the p99
is over 15 s, a reply is lost or doubled, a reminder is lost or doubled, or the phone went over its
rate (more than its rate plus one burst slot in any minute).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from inbound import ACCOUNT, SENDER, TOKEN, proc_cpu, tree  # noqa: E402

PHONE = "phone1"
PHONE_CREDS = {"username": "sms", "password": "bench-phone-password", "signing_key": "bench-phone-signing-key"}
VACCINATORS = ("+919830070001", "+919830070002", "+919830070003")
PER_MINUTE, EVERY_S, TARGET_P99_S, MAX_WAIT_S = 6.0, 40.0, 15.0, 5.0
REF = re.compile(r"\b(2\d{7})\b")


def seed(database_url: str, redis_url: str, doses: int, reminders: int, tz: str) -> list[list[str]]:
    """Three sites with a vaccinator each, people booked today, reminders queued on the phone.
    Returns each vaccinator's REFs to report."""
    from tikabot.core.clock import local_date, now
    from tikabot.outbox.messages import add_message
    from tikabot.services import Services
    from tikabot.config import Config
    from tikabot.store.db import make_engine
    from tikabot.store.migrate import upgrade
    from tikabot.store.models import Appointment, Beneficiary, Site, Staff

    engine = make_engine(database_url)
    upgrade(engine)
    engine.dispose()
    services = Services.build(Config(database_url=database_url, redis_url=redis_url))
    today = local_date(now(), tz)
    refs: list[list[str]] = [[] for _ in VACCINATORS]
    with services.transaction() as s:
        for v, phone in enumerate(VACCINATORS):
            site = Site(code=f"S{v}", name=f"Site {v}", district="Nadia", state="WB")
            s.add(site)
            s.flush()
            s.add(Staff(phone=phone, name=f"Vaccinator {v}", role="vaccinator", site_id=site.id, language="en"))
            for i in range(doses):
                ref = f"2{v}{i:06d}"
                person = Beneficiary(ref=ref, name=f"Person {v} {i}", phone=f"+9197{v}{i:07d}", language="en",
                                     site_id=site.id)
                s.add(person)
                s.flush()
                s.add(Appointment(beneficiary_id=person.id, site_id=site.id, dose_number=1, date=today,
                                  slot="09:00-11:00", security_code_hash="0" * 64))  # no code verifies here
                refs[v].append(ref)
        for i in range(reminders):
            row = add_message(s, key=f"bench-reminder-{i}", recipient=f"+9196{i:08d}", template="appt.reminder_eve",
                              language="en", body=f"Reminder {i}: your vaccination is tomorrow.", priority="bulk",
                              channel="sms")
            row.via = f"android:{PHONE}"
    services.close()
    return refs


class Vaccinator(threading.Thread):
    """Texts the phone: START, then DOSE <REF> 1 every `every` seconds until `until`."""

    def __init__(self, sim_url: str, phone: str, refs: list[str], every: float, until: float, offset: float):
        super().__init__(daemon=True)
        self.sim_url, self.phone, self.refs = sim_url, phone, refs
        self.every, self.until, self.offset = every, until, offset
        self.sent: dict[str, float] = {}  # "START" or REF -> when the webhook was posted
        self.refused = 0

    def text(self, body: str) -> bool:
        request = urllib.request.Request(f"{self.sim_url}/_sim/smsgate/{PHONE}/receive", method="POST",
                                         data=json.dumps({"from": self.phone, "text": body}).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())["status"] == 200

    def run(self) -> None:
        time.sleep(self.offset)
        at = time.time()
        self.sent["START"] = at
        self.refused += not self.text("START COVISHIELD LOT1")
        for n, ref in enumerate(self.refs, 1):
            due = at + n * self.every
            if due > self.until:
                break
            time.sleep(max(0.0, due - time.time()))
            self.sent[ref] = time.time()
            self.refused += not self.text(f"DOSE {ref} 1")


def ready(redis_url: str, sim_url: str, timeout: float = 120.0) -> None:
    """Until the worker (send loop, reply lane and inbox worker) is up: a vaccinator's first report
    must not wait for processes to start. The probe is an SMS from a number nobody knows; its
    answer, if any, is left out of the figures (it is to none of the vaccinators)."""
    import redis as redis_lib

    client = redis_lib.Redis.from_url(redis_url)
    deadline = time.time() + timeout
    while time.time() < deadline and client.scard("rq:workers") < 2:
        time.sleep(0.2)
    client.close()
    probe = Vaccinator(sim_url, "+919830079999", [], 1.0, 0.0, 0.0)
    probe.text("HELP")
    while time.time() < deadline and not any(s["to"] == probe.phone for s in sends(sim_url)):
        time.sleep(0.2)


def sends(sim_url: str) -> list[dict]:
    with urllib.request.urlopen(f"{sim_url}/_sim/smsgate", timeout=60) as answer:
        return json.loads(answer.read())["messages"]


def pids_listening(port: int) -> list[int]:
    """The Redis server's process: the one whose command line names its port."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if ("valkey" in cmd or "redis" in cmd) and f":{port}" in cmd or f"--port {port}" in cmd:
                found.append(int(entry.name))
    return found


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--speed", type=float, default=20.0, help="time compression (every rate scaled alike)")
    parser.add_argument("--minutes", type=float, default=30.0, help="the vaccinators' reporting, in real minutes")
    parser.add_argument("--reminders", type=int, default=200)
    args = parser.parse_args()
    speed = args.speed

    from tikabot.stack.processes import free_port, wait_for_port
    from tikabot.stack.redis_server import EmbeddedRedis

    work = Path(tempfile.mkdtemp(prefix="tikabot-gateway-day-"))
    redis_server = EmbeddedRedis(work / "redis")
    redis_url = redis_server.start()
    database_url = f"sqlite:///{work}/day.db"
    tz = "Asia/Kolkata"
    doses = int(args.minutes * 60 / EVERY_S) + 2
    refs = seed(database_url, redis_url, doses, args.reminders, tz)

    sim_port, web_port = free_port(), free_port()
    sim_url, web_url = f"http://127.0.0.1:{sim_port}", f"http://127.0.0.1:{web_port}"
    fields = {"account_sid": ACCOUNT, "auth_token": TOKEN, "callback_retries": 0,
              "smsgate_phones": {PHONE: {**PHONE_CREDS, "webhook_url": f"{web_url}/channels/smsgate"}}}
    code = ("import sys, json; from tikabot.simulator.server import run; "
            "from tikabot.simulator.config import FaultConfig; "
            f"run('127.0.0.1', {sim_port}, FaultConfig(**json.loads(sys.argv[1])))")
    procs: dict[str, subprocess.Popen] = {}
    procs["simulator"] = subprocess.Popen([sys.executable, "-c", code, json.dumps(fields)], cwd=ROOT,
                                          stdout=subprocess.DEVNULL, stderr=open(work / "sim.log", "ab"))
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "TIKABOT_TZ": tz,
           "TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_FROM": SENDER,
           "TWILIO_API_BASE": sim_url, "OTP_SECRET": "bench-otp-secret",
           "SMSGATE_URL": f"{sim_url}/smsgate/{PHONE}", "SMSGATE_ID": PHONE,
           "SMSGATE_USERNAME": PHONE_CREDS["username"], "SMSGATE_PASSWORD": PHONE_CREDS["password"],
           "SMSGATE_SIGNING_KEY": PHONE_CREDS["signing_key"], "SMSGATE_PER_MINUTE": str(PER_MINUTE * speed),
           "SMSGATE_MAX_WAIT": str(MAX_WAIT_S / speed), "TIKABOT_RELAY_INTERVAL": str(1.0 / speed),
           "TIKABOT_RETRY_BASE": str(2.0 / speed),
           "TIKABOT_ROUTES": "reply=android,twilio;reminder=android,twilio;default=twilio"}
    env.pop("PUBLIC_BASE_URL", None)
    wait_for_port(sim_port)
    procs["web"] = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "2", "--bind",
                                     f"127.0.0.1:{web_port}", "--chdir", str(ROOT), "--log-level", "warning",
                                     "tikabot.app:create_app()"], env=env, stdout=subprocess.DEVNULL,
                                    stderr=open(work / "web.log", "ab"))
    wait_for_port(web_port)
    procs["worker"] = subprocess.Popen([sys.executable, "-m", "tikabot", "worker"], cwd=ROOT, env=env,
                                       stdout=subprocess.DEVNULL, stderr=open(work / "worker.log", "ab"))
    cpu_of = {name: (lambda p=proc: proc_cpu(tree(p.pid))) for name, proc in procs.items()}
    redis_port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
    cpu_of["redis"] = lambda: proc_cpu(pids_listening(redis_port))
    try:
        ready(redis_url, sim_url)
        began = time.time()
        until = began + args.minutes * 60 / speed
        people = [Vaccinator(sim_url, phone, refs[v], EVERY_S / speed, until, offset=v * EVERY_S / speed / 3)
                  for v, phone in enumerate(VACCINATORS)]
        for person in people:
            person.start()
        for person in people:
            person.join()
        expected_replies = sum(len(p.sent) for p in people)
        # the reminders' tail: whatever is left at the phone's rate, and some slack
        deadline = time.time() + (args.reminders + expected_replies) * 60 / PER_MINUTE / speed + 60

        def counted():
            found = sends(sim_url)
            return (found, sum(1 for s in found if s["to"] in VACCINATORS),
                    sum(1 for s in found if s["to"].startswith("+9196")))
        while time.time() < deadline:
            found, replies, reminders = counted()
            if replies >= expected_replies and reminders >= args.reminders:
                break
            time.sleep(0.5)
        found = sends(sim_url)
        cpu = {name: f() for name, f in cpu_of.items()}
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        redis_server.stop()
    return report(args, people, found, began, cpu, work)


def report(args, people, found, began, cpu, work) -> int:
    speed = args.speed
    latencies, lost, doubled = [], [], 0
    for person in people:
        mine = sorted((s for s in found if s["to"] == person.phone), key=lambda s: s["created"])
        by_ref = Counter(m.group(1) for s in mine if (m := REF.search(s["text"])))
        starts = [s for s in mine if not REF.search(s["text"])]
        doubled += sum(n - 1 for n in by_ref.values() if n > 1) + max(0, len(starts) - 1)
        for key, at in person.sent.items():
            replies = starts if key == "START" else [s for s in mine if key in s["text"]]
            if not replies:
                lost.append(key)
                continue
            latencies.append((replies[0]["created"] - at) * speed)
    reminders = [s for s in found if s["to"] not in VACCINATORS and s["to"] != "+919830079999"]
    reminder_copies = Counter(s["text"] for s in reminders)
    reminders_doubled = sum(n - 1 for n in reminder_copies.values() if n > 1)
    last_reminder = max((s["created"] for s in reminders), default=began)
    minute = 60.0 / speed  # one real minute, compressed
    per_minute = Counter(int((s["created"] - began) // minute) for s in found)
    busiest = max(per_minute.values(), default=0)
    # a GCRA with one slot of tolerance lets at most rate + 1 into any window of the rate's length
    # (+1 for a window's edge, as minutes here are fixed buckets)
    over_rate = busiest > PER_MINUTE + 2
    p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
    print(f"gateway day: 3 vaccinators, a dose each every {EVERY_S:.0f} s for {args.minutes:.0f} min, one phone at "
          f"{PER_MINUTE:.0f} SMS/min, {args.reminders} reminders queued on it; time compressed x{speed:g}")
    print(f"replies: {len(latencies)} of {sum(len(p.sent) for p in people)} reports; webhook -> handed to the phone "
          f"p50 {p50:.1f} s, p99 {p99:.1f} s, max {max(latencies, default=float('nan')):.1f} s "
          f"(real seconds; target p99 <= {TARGET_P99_S:.0f} s)")
    print(f"replies lost: {len(lost)}  doubled: {doubled}  webhooks refused: {sum(p.refused for p in people)}")
    print(f"reminders: {len(reminder_copies)} of {args.reminders} sent, {reminders_doubled} doubled; the last "
          f"{(last_reminder - began) * speed / 60:.1f} min into the day (vaccinators stopped at {args.minutes:.0f} min)")
    print(f"phone: busiest minute {busiest} SMS (rate {PER_MINUTE:.0f}/min, one slot of burst)")
    wall = time.time() - began
    print("CPU s: " + ", ".join(f"{k} {v:.1f}" for k, v in cpu.items()) + f"; total {sum(cpu.values()):.1f} "
          f"in {wall:.0f} s wall")
    failures = []
    if not latencies or p99 > TARGET_P99_S:
        failures.append(f"p99 {p99:.1f} s over {TARGET_P99_S:.0f} s")
    if lost:
        failures.append(f"{len(lost)} replies lost ({', '.join(lost[:5])})")
    if doubled or reminders_doubled:
        failures.append(f"{doubled} replies and {reminders_doubled} reminders doubled")
    if len(reminder_copies) < args.reminders:
        failures.append(f"{args.reminders - len(reminder_copies)} reminders not sent")
    if over_rate:
        failures.append(f"the phone sent {busiest} SMS in one minute")
    if any(p.refused for p in people):
        failures.append("webhooks refused")
    for failure in failures:
        print(f"FAIL: {failure} (logs in {work})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
