"""Crash test of the inbound path: DOSE reports stream into the webhook while inbox workers are
SIGKILLed, Redis is restarted and the database is unavailable for a while; then, per report:
answered 2xx or 503, recorded or lost, replied once or twice.

    .venv/bin/python bench/chaos.py [--kills 20] [--outage 30] [--postgres] [--no-spool] [--json]

The database outage is, on SQLite, another process holding an exclusive lock (no one reads or
writes); on PostgreSQL (--postgres, a throwaway cluster) the server stopped. The load generator
does what Twilio does with an inbound SMS: it does not retry a 503, so a report answered 503 is a
report lost. With the spool the webhook keeps answering 2xx through the outage and nothing is
lost; with --no-spool it answers 503 and reports are lost: the run fails, as it must.
Poison is mixed in: every POISON_EVERY-th report is followed by a signed SMS whose sender holds a NUL
(PostgreSQL cannot store it; it must be refused with 400, never spooled), and once the outage has
spooled messages, a line no database can store is put in the spool among them (as an older
version could have left it): the drain must set it aside and go on with the lines behind it.
Exit status 0 when: every answer was 2xx or 503, no report answered 2xx is lost, no report is lost
at all, no dose, reply or confirmation is duplicated, every report answered 2xx was processed
after recovery and got its own reply and its beneficiary's confirmation, every poison SMS was
answered 400, and (with the spool) the poison spool line was set aside, and counted in /metrics.
The outbox's own crash test (send workers killed mid-send) is bench/chaos_outbox.py.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from harness import wait_until  # noqa: E402
from inbound import ACCOUNT, PUBLIC, SENDER, TOKEN, Simulator, seed  # noqa: E402

LOCKER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=60)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("ROLLBACK")
"""


POISON_EVERY = 40


class Load:
    """Reports from many vaccinators, each a distinct beneficiary, sent at about `rate` per second."""

    def __init__(self, url: str, pairs: list, rate: float, threads: int = 8):
        from twilio.request_validator import RequestValidator

        self.url, self.pairs, self.rate, self.threads = url, pairs, rate, threads
        self.validator = RequestValidator(TOKEN)
        self.answers: dict[str, object] = {}  # ref -> HTTP status (or the exception's name)
        self.poison_answers: list[str] = []  # what each poison SMS was answered
        self.stop = threading.Event()
        self.next = 0
        self.lock = threading.Lock()
        self.workers = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def start(self) -> None:
        for t in self.workers:
            t.start()

    def _take(self):
        with self.lock:
            if self.next >= len(self.pairs):
                return None
            n, self.next = self.next, self.next + 1
            return n, self.pairs[n]

    def _run(self) -> None:
        http = requests.Session()
        pause = self.threads / self.rate
        while not self.stop.is_set():
            taken = self._take()
            if taken is None:
                return
            n, (phone, ref, _) = taken
            params = {"MessageSid": f"SMchaos{n:027d}", "AccountSid": ACCOUNT, "From": phone, "To": SENDER,
                      "Body": f"DOSE {ref} 1 CS 4120Z025", "NumMedia": "0"}
            signature = self.validator.compute_signature(PUBLIC + "/sms/inbound", params)
            started = time.monotonic()
            try:
                status = http.post(self.url, data=params, headers={"X-Twilio-Signature": signature},
                                   timeout=15).status_code  # Twilio waits 15 s
            except requests.RequestException as exc:
                status = type(exc).__name__
            with self.lock:
                self.answers[ref] = status
            if n % POISON_EVERY == POISON_EVERY // 2:
                self._poison(http, n)
            time.sleep(max(0.0, pause - (time.monotonic() - started)))

    def _poison(self, http, n: int) -> None:
        params = {"MessageSid": f"SMpoison{n:026d}", "AccountSid": ACCOUNT, "From": f"+9198300\x00{n:05d}",
                  "To": SENDER, "Body": "DOSE 0000000000", "NumMedia": "0"}
        signature = self.validator.compute_signature(PUBLIC + "/sms/inbound", params)
        try:
            status = str(http.post(self.url, data=params, headers={"X-Twilio-Signature": signature},
                                   timeout=15).status_code)
        except requests.RequestException as exc:
            status = type(exc).__name__
        with self.lock:
            self.poison_answers.append(status)

    def close(self) -> None:
        self.stop.set()
        for t in self.workers:
            t.join(30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20, help="SIGKILLs of inbox workers")
    parser.add_argument("--outage", type=float, default=30.0, help="seconds the database is unavailable")
    parser.add_argument("--rate", type=float, default=40.0, help="reports per second offered")
    parser.add_argument("--workers", type=int, default=2, help="inbox workers")
    parser.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL, stopped for the outage")
    parser.add_argument("--no-spool", action="store_true", help="switch the spool off: reports must be lost")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print one JSON line only")
    args = parser.parse_args()
    say = (lambda *a: None) if args.json else (lambda *a: print(*a, flush=True))

    from sqlalchemy import text

    from tikabot.core import clock
    from tikabot.inbox.spool import Spool, record
    from tikabot.stack.processes import free_port, wait_for_port
    from tikabot.stack.redis_server import EmbeddedRedis
    from tikabot.store.db import make_engine, plain_reads

    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="tikabot-chaos-"))
    pg = None
    if args.postgres:
        import pg as pgmod

        pg = pgmod.TempPostgres(free_port()).init()
        database_url = pg.url
    else:
        database_url = f"sqlite:///{work / 'chaos.db'}"
    redis_server = EmbeddedRedis(data_dir=work / "redis")
    redis_server.start()
    sim = Simulator(work)
    seconds = args.outage + args.kills * 0.8 + 15
    pairs = seed(database_url, int(args.rate * seconds * 1.5) + 100)
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_server.url, "TWILIO_ACCOUNT_SID": ACCOUNT,
           "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_FROM": SENDER, "TWILIO_API_BASE": sim.url, "OTP_SECRET": "chaos",
           "PYTHONPATH": str(ROOT), "SEND_RATE": "1000", "TIKABOT_QUIET_HOURS": "off",
           "TIKABOT_SPOOL_DIR": "off" if args.no_spool else str(work / "spool"), "TIKABOT_INBOX_LEASE": "2",
           "TWILIO_TIMEOUT": "2", "TIKABOT_SEND_LEASE": "4", "TIKABOT_RELAY_INTERVAL": "0.3"}
    web_env = {**env, "PUBLIC_BASE_URL": PUBLIC}
    logs = open(work / "processes.log", "ab")
    web = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
                            "--timeout", "60", "tikabot.app:create_app()"], cwd=ROOT, env=web_env,
                           stdout=logs, stderr=logs)
    sender = subprocess.Popen([sys.executable, "-m", "tikabot", "worker"], cwd=ROOT,
                              env={**env, "TIKABOT_INBOX_WORKERS": "0"}, stdout=logs, stderr=logs,
                              start_new_session=True)
    inbox: list[subprocess.Popen] = []

    def start_inbox() -> None:
        inbox.append(subprocess.Popen([sys.executable, "-m", "tikabot.inbox.worker"], cwd=ROOT, env=env,
                                      stdout=logs, stderr=logs))

    engine = make_engine(database_url, wait_s=1.0)

    def processed() -> int | None:
        try:
            with plain_reads(engine) as conn:
                return conn.execute(text("SELECT count(*) FROM inbound_messages WHERE status = 'done'")).scalar()
        except Exception:
            return None

    def poison_the_spool() -> bool:
        """Once the outage has spooled messages, add a line no database can store among them."""
        if args.no_spool:
            return False
        folder = work / "spool"
        if not wait_until(lambda: Spool(folder).backlog(), min(10.0, args.outage), 0.05):
            return False
        Spool(folder).append(record("SMpoison-spooled", "sms", "+9198300\x0000000", "DOSE 0000000000",
                                    "twilio", clock.now()))
        return True

    kills = redis_restarts = 0
    outage_s = 0.0
    load = Load(f"http://127.0.0.1:{port}/sms/inbound", pairs, args.rate)
    result: dict = {}
    try:
        wait_for_port(port)
        for _ in range(args.workers):
            start_inbox()
        load.start()
        say(f"streaming about {args.rate:.0f} DOSE reports/s; {args.kills} SIGKILLs of inbox workers, one Redis "
            f"restart, the database unavailable {args.outage:.0f} s ({'PostgreSQL stopped' if pg else 'SQLite locked'}), "
            f"spool {'OFF' if args.no_spool else 'on'}")

        def kill_some(count: int) -> None:
            nonlocal kills
            for _ in range(count):
                before = processed() or 0
                wait_until(lambda: (processed() or 0) > before, 30, 0.05)  # it is working when killed
                time.sleep(rng.uniform(0.05, 0.3))
                alive = [p for p in inbox if p.poll() is None]
                victim = rng.choice(alive)
                os.kill(victim.pid, signal.SIGKILL)
                victim.wait()
                inbox.remove(victim)
                kills += 1
                start_inbox()

        kill_some(args.kills // 2)
        redis_server.kill()
        time.sleep(0.5)
        redis_server.restart()
        redis_restarts += 1
        say(f"  {kills} kills, Redis restarted; the database goes away for {args.outage:.0f} s")
        started = time.monotonic()
        if pg is not None:
            pg.stop("fast")
            poisoned = poison_the_spool()
            time.sleep(max(0.0, args.outage - (time.monotonic() - started)))
            pg.start()
        else:
            locker = subprocess.Popen([sys.executable, "-c", LOCKER, database_url.split("///", 1)[1], str(args.outage)],
                                      stdout=subprocess.PIPE, text=True)
            locker.stdout.readline()
            poisoned = poison_the_spool()
            locker.wait()
        outage_s = time.monotonic() - started
        say("  the database is back")
        kill_some(args.kills - kills)
        load.close()
        offered = dict(load.answers)
        say(f"  {len(offered)} reports sent; waiting for every one to be processed and replied to")
        accepted = [ref for ref, status in offered.items() if status == 200]

        phone_of = {ref: phone for _, ref, phone in pairs}
        number_of = {ref: n for n, (_, ref, _) in enumerate(pairs)}

        def sent() -> tuple[Counter, Counter, list]:
            """Staff replies a ref, confirmations a beneficiary phone, and every message, as the simulator has them."""
            messages = sim.get("/_sim/messages")
            replies = Counter(m["body"].split()[1] for m in messages if m["body"].startswith("Recorded: "))
            with plain_reads(engine) as conn:  # a confirmation by its outbox key: the day's reminders go out too
                confirming = set(conn.execute(text("SELECT provider_id FROM outbound_messages WHERE "
                                                   "idempotency_key LIKE 'dose-%-confirmation%'")).scalars())
            confirmations = Counter(m["to"] for m in messages if m["sid"] in confirming)
            return replies, confirmations, messages

        def settled() -> bool:
            try:
                with plain_reads(engine) as conn:
                    waiting = conn.execute(text("SELECT count(*) FROM inbound_messages WHERE status = 'new'")).scalar()
            except Exception:
                return False
            spooled = Spool(work / "spool").backlog()  # the set-aside file is not a backlog
            if waiting or spooled:
                return False
            try:
                replies, confirmations, _ = sent()  # each accepted report's own reply and confirmation, not a count
            except Exception:
                return False
            return all(ref in replies and phone_of[ref] in confirmations for ref in accepted)

        all_processed = wait_until(settled, 300, 0.5)
        set_aside = Spool(work / "spool").set_aside_count()
        try:
            scraped = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
            counted = next((float(line.split()[1]) for line in scraped.splitlines()
                            if line.startswith("tikabot_spool_set_aside_total ")), None)
        except requests.RequestException:
            counted = None
        with engine.connect() as conn:
            doses = dict(conn.execute(text("SELECT b.ref, count(*) FROM doses d JOIN beneficiaries b ON "
                                           "b.id = d.beneficiary_id GROUP BY b.ref")).all())
            statuses_inbox = dict(conn.execute(text("SELECT status, count(*) FROM inbound_messages GROUP BY status")).all())
            outbox = dict(conn.execute(text("SELECT status, count(*) FROM outbound_messages GROUP BY status")).all())
        replies, confirmations, messages = sent()
        staff_dup = sum(n - 1 for n in replies.values() if n > 1)
        missing = [ref for ref in accepted if ref not in replies]
        with engine.connect() as conn:
            unsent = [[ref, *(conn.execute(text("SELECT status, attempts, last_error_code, substr(body, 1, 40) FROM "
                                                "outbound_messages WHERE idempotency_key = :k"),
                                           {"k": f"reply-SMchaos{number_of[ref]:027d}"}).first() or ["no row"])]
                      for ref in missing[:3]]
        answers = Counter(str(s) for s in offered.values())
        result = {
            "database": "postgresql" if pg else "sqlite", "spool": not args.no_spool, "worker_kills": kills,
            "redis_restarts": redis_restarts, "outage_s": round(outage_s, 1), "reports": len(offered),
            "answers": dict(answers), "only_2xx_or_503": set(answers) <= {"200", "503"},
            "lost_of_2xx": sum(1 for ref in accepted if ref not in doses),
            "lost": sum(1 for ref in offered if ref not in doses),
            "duplicate_doses": sum(n - 1 for n in doses.values() if n > 1), "duplicate_replies": staff_dup,
            "replies_missing": len(missing),
            "duplicate_confirmations": sum(n - 1 for n in confirmations.values() if n > 1),
            "confirmations_missing": sum(1 for ref in accepted if phone_of[ref] not in confirmations),
            "inbox": statuses_inbox, "outbox": outbox, "all_processed": all_processed,
            "unsent_replies": unsent,  # the first reports with no reply: their reply's outbox row, if any
            "poison_sent": len(load.poison_answers), "poison_answers": dict(Counter(load.poison_answers)),
            "poison_spooled": poisoned, "set_aside": set_aside, "set_aside_in_metrics": counted,
        }
    finally:
        load.close()
        for proc in inbox + [web]:
            if proc.poll() is None:
                proc.terminate()
        try:
            os.killpg(sender.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        for proc in inbox + [web, sender]:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        engine.dispose()
        sim.close()
        redis_server.stop()
        if pg is not None:
            pg.close()
    ok = (result.get("only_2xx_or_503") and result["lost_of_2xx"] == 0 and result["lost"] == 0
          and result["duplicate_doses"] == 0 and result["duplicate_replies"] == 0 and result["all_processed"]
          and result["replies_missing"] == 0 and result["confirmations_missing"] == 0
          and result["duplicate_confirmations"] == 0
          and result["poison_sent"] > 0 and result["poison_answers"] == {"400": result["poison_sent"]}
          and result["poison_spooled"] == (not args.no_spool) and result["set_aside"] == int(result["poison_spooled"])
          and result["set_aside_in_metrics"] == (None if args.no_spool else float(result["set_aside"])))
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{result['reports']} reports, answers {result['answers']}; {kills} worker SIGKILLs, "
              f"{redis_restarts} Redis restart, database unavailable {result['outage_s']} s; spool "
              f"{'on' if result['spool'] else 'OFF'}")
        print(f"lost of those answered 2xx: {result['lost_of_2xx']}; lost in all (a 503 is not retried by "
              f"Twilio): {result['lost']}; duplicate doses {result['duplicate_doses']}, duplicate replies "
              f"{result['duplicate_replies']}, replies missing {result['replies_missing']}; confirmations duplicated "
              f"{result['duplicate_confirmations']}, missing {result['confirmations_missing']}; inbox {result['inbox']}; "
              f"outbox {result['outbox']}; "
              f"all processed after recovery: {result['all_processed']}")
        print(f"poison: {result['poison_sent']} SMS with a NUL in the sender, answered {result['poison_answers']}; "
              f"a poison line in the spool: {result['poison_spooled']}, set aside {result['set_aside']} "
              f"(/metrics: {result['set_aside_in_metrics']})")
        print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
