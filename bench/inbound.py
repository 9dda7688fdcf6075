"""Benchmark: inbound SMS through the accept-first inbox, from the signed webhook to the provider.

    .venv/bin/python bench/inbound.py [--quick] [--databases sqlite,postgres] [--seconds 60]

Everything on one machine, on loopback: embedded Redis, SQLite (WAL) or a throwaway PostgreSQL,
gunicorn (sync workers, as the Procfile ships), inbox workers (`python -m tikabot.inbox.worker`),
send workers (`tikabot worker`), the provider simulator in its own process, and the load generator
(aiohttp) in another. Every request is signed with Twilio's algorithm; every DOSE is a distinct
beneficiary. For each database it prints:

1. acceptance: signed requests/s into the inbox (no worker running, so only the webhook's INSERT)
   against a bare Flask endpoint under the same gunicorn, alternating, in the same run;
   then the messages it kept as a backlog: one inbox worker processes them, then one send worker
   sends their replies and confirmations, each alone, with its CPU per report (full claims, rounds
   and send jobs: the design's cost when work queues up);
2. end to end: DOSE reports/s from the webhook to the staff reply and the beneficiary's confirmation
   handed to the simulator, offered as fast as accepted for --seconds (60), and the CPU per report
   of web + inbox workers + send workers + Redis (+ PostgreSQL's server), Redis commands and
   database transactions per report;
3. reply latency p50/p99 at --rate (400) reports/s offered (open loop), and again at 70 % of the
   end-to-end rate measured in 2 (what this machine carries): from the request to the
   reply's arrival at the simulator;
4. burst: --burst (30,000) reports offered as fast as the load generator can: statuses, lost, and
   the time to drain;
5. on PostgreSQL, the end-to-end rate with more web and worker processes on the one database;
6. a capacity table from the measured CPU per report.

Status callbacks are off (the senders get no PUBLIC_BASE_URL), so the simulator's only traffic back
is nil and the figures are the inbound path's. Every beneficiary is booked for dose 1 today (the
report marks the appointment done); the reminder planner is held off, as its reminders are bulk
sends, not the inbound path. It also prints the CPU per report of the parts around tikabot (the load
generator, a bare Flask endpoint under the same gunicorn, Twilio's client sending the two messages, the
simulator) and the DOSE/s ceiling they leave on this machine's cores. --quick runs a short version (about a minute and a
half per database; `--quick --databases sqlite` for under two minutes in all).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

TOKEN = "bench-auth-token-0123456789abcdef"
ACCOUNT = "AC" + "1" * 32
PUBLIC = "https://tikabot.example.org"
SENDER = "+15005550006"
SITES, STAFF_PER_SITE = 400, 2
TICKS = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1
STATE_DAY = {"sites": 5000, "doses_per_site": 200, "hours": 8, "peak_factor": 3}
NATIONAL = {"sms_per_s": 1340, "doses_per_s": 470}


# --- set-up -------------------------------------------------------------------------------
def seed(database_url: str, beneficiaries: int) -> list[tuple[str, str, str]]:
    """Sites, staff, beneficiaries booked for dose 1 today (Core bulk inserts); (staff phone, ref,
    beneficiary phone) per DOSE."""
    from sqlalchemy import insert

    from tikabot.store.db import make_engine
    from tikabot.store.migrate import upgrade
    from tikabot.core.clock import local_date, now
    from tikabot.store.models import Appointment, Beneficiary, Site, Staff

    engine = make_engine(database_url)
    upgrade(engine)
    staff = [f"+9198300{i:05d}" for i in range(SITES * STAFF_PER_SITE)]
    with engine.begin() as conn:
        conn.execute(insert(Site), [{"id": i + 1, "code": f"S{i:04d}", "name": f"Site {i}"} for i in range(SITES)])
        conn.execute(insert(Staff), [{"phone": p, "name": f"Vaccinator {i}", "role": "vaccinator",
                                      "site_id": i % SITES + 1, "language": "en", "active": True}
                                     for i, p in enumerate(staff)])
        rows = [{"id": i + 1, "ref": f"{10_000_000 + i}", "name": f"Person {i}", "phone": f"+9197{i:08d}", "language": "bn",
                 "site_id": i % SITES + 1, "opted_out": False} for i in range(beneficiaries)]
        # each booked for dose 1 today, as on a drive's day: the report marks the appointment done
        today = local_date(now(), os.environ.get("TIKABOT_TZ", "Asia/Kolkata"))
        booked = [{"beneficiary_id": i + 1, "site_id": i % SITES + 1, "dose_number": 1, "date": today,
                   "slot": "09:00-11:00", "security_code_hash": "0" * 64, "status": "booked"} for i in range(beneficiaries)]
        for start in range(0, len(rows), 5000):
            conn.execute(insert(Beneficiary), rows[start:start + 5000])
            conn.execute(insert(Appointment), booked[start:start + 5000])
    engine.dispose()
    return [(staff[i % len(staff)], f"{10_000_000 + i}", f"+9197{i:08d}") for i in range(beneficiaries)]


def proc_cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / TICKS
    return total


def tree(pid: int) -> list[int]:
    """pid and all its descendants."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        one = todo.pop()
        out.append(one)
        todo.extend(parents.get(one, []))
    return out


class Services:
    """The processes under test, started and stopped by kind, with their CPU read from /proc."""

    def __init__(self, env: dict, work: Path):
        self.env, self.work = env, work
        self.procs: dict[str, list[subprocess.Popen]] = {"web": [], "inbox": [], "send": []}

    def web(self, workers: int, port: int, target: str = "tikabot.app:create_app()", chdir: Path = ROOT) -> None:
        from tikabot.stack.processes import wait_for_port

        proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind",
                                 f"127.0.0.1:{port}", "--backlog", "4096", "--chdir", str(chdir),
                                 "--log-level", "warning", target], env=self.env, stdout=subprocess.DEVNULL,
                                stderr=open(self.work / "web.log", "ab"))
        wait_for_port(port)
        self.procs["web"].append(proc)

    def inbox(self, count: int) -> None:
        for _ in range(count):
            self.procs["inbox"].append(subprocess.Popen([sys.executable, "-m", "tikabot.inbox.worker"], cwd=ROOT,
                                                        env=self.env, stderr=open(self.work / "inbox.log", "ab")))

    def send(self, count: int) -> None:
        env = {**self.env, "TIKABOT_INBOX_WORKERS": "0"}
        env.pop("PUBLIC_BASE_URL", None)  # no status callbacks: the inbound path is what is measured
        for _ in range(count):
            self.procs["send"].append(subprocess.Popen([sys.executable, "-m", "tikabot", "worker"], cwd=ROOT, env=env,
                                                       stderr=open(self.work / "send.log", "ab")))

    def pids(self, kind: str) -> list[int]:
        return [p for proc in self.procs[kind] if proc.poll() is None for p in tree(proc.pid)]

    def stop(self, kind: str | None = None) -> None:
        for name in ([kind] if kind else list(self.procs)):
            for proc in self.procs[name]:
                if proc.poll() is None:
                    proc.terminate()
            for proc in self.procs[name]:
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            self.procs[name] = []


class Simulator:
    def __init__(self, work: Path):
        from tikabot.stack.processes import free_port, wait_for_port

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        fields = {"account_sid": ACCOUNT, "auth_token": TOKEN, "callback_retries": 0}
        code = ("import sys, json; from tikabot.simulator.server import run; "
                "from tikabot.simulator.config import FaultConfig; "
                f"run('127.0.0.1', {self.port}, FaultConfig(**json.loads(sys.argv[1])))")
        self.proc = subprocess.Popen([sys.executable, "-c", code, json.dumps(fields)], cwd=ROOT,
                                     stdout=subprocess.DEVNULL, stderr=open(work / "sim.log", "ab"))
        wait_for_port(self.port)

    def get(self, path: str):
        with urllib.request.urlopen(self.url + path, timeout=120) as response:
            return json.loads(response.read())

    def created(self) -> int:
        return self.get("/_sim/stats")["counts"].get("messages_created", 0)

    def reset(self) -> None:
        request = urllib.request.Request(self.url + "/_sim/reset", data=b"{}",
                                         headers={"Content-Type": "application/json"})
        urllib.request.urlopen(request, timeout=60).read()

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


# --- the load generator (its own process) ----------------------------------------------------
def run_client(spec: dict, work: Path) -> dict:
    file = work / f"spec-{time.monotonic_ns()}.json"
    file.write_text(json.dumps(spec))
    out = subprocess.run([sys.executable, __file__, "--client", str(file)], capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout)


def _signed(spec: dict) -> list[tuple[dict, str]]:
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(TOKEN)
    out = []
    for n, (phone, ref) in enumerate(spec["pairs"]):
        params = {"MessageSid": f"SM{spec['tag']}{n:024d}", "AccountSid": ACCOUNT, "From": phone, "To": SENDER,
                  "Body": f"DOSE {ref} 1 CS 4120Z025", "NumMedia": "0", "NumSegments": "1",
                  "SmsStatus": "received", "ApiVersion": "2010-04-01"}
        out.append((params, validator.compute_signature(PUBLIC + "/sms/inbound", params)))
    return out


async def _fire(spec: dict) -> dict:
    import aiohttp

    requests = _signed(spec)
    url = f"http://127.0.0.1:{spec['port']}/sms/inbound"
    latencies, statuses, sent_at = [], {}, {}
    rate, duration = spec.get("rate"), spec.get("duration")
    index = 0
    began = time.perf_counter()
    wall0 = time.time()
    cpu0 = time.process_time()  # the load generator's own CPU, from here (signing is Twilio's work, not ours)

    async def one(session, n):
        params, signature = requests[n]
        start = time.perf_counter()
        sent_at[spec["pairs"][n][1]] = wall0 + (start - began)
        try:
            async with session.post(url, data=params, headers={"X-Twilio-Signature": signature}) as resp:
                await resp.read()
                status = resp.status
        except aiohttp.ClientError as exc:
            status = type(exc).__name__
        latencies.append(time.perf_counter() - start)
        statuses[str(status)] = statuses.get(str(status), 0) + 1

    async def closed_loop(session):
        nonlocal index
        while index < len(requests) and (duration is None or time.perf_counter() - began < duration):
            n, index = index, index + 1
            await one(session, n)

    connector = aiohttp.TCPConnector(limit=spec.get("connections", 512))
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:
        if rate:
            tasks = []
            for n in range(len(requests)):
                due = n / rate
                if duration is not None and due >= duration:
                    break
                delay = due - (time.perf_counter() - began)
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.ensure_future(one(session, n)))
            await asyncio.gather(*tasks)
        else:
            await asyncio.gather(*(closed_loop(session) for _ in range(spec["concurrency"])))
    elapsed = time.perf_counter() - began
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else 0  # noqa: E731
    return {"requests": len(latencies), "seconds": elapsed, "rate": len(latencies) / elapsed, "p50_ms": pick(0.5),
            "p99_ms": pick(0.99), "cpu_ms_per_request": (time.process_time() - cpu0) * 1000 / max(1, len(latencies)),
            "statuses": statuses, "sent_at": sent_at if spec.get("keep_times") else {},
            "ended_at": time.time()}


def client_main(spec_file: str) -> None:
    spec = json.loads(Path(spec_file).read_text())
    print(json.dumps(asyncio.run(_fire(spec))))


# --- the phases -----------------------------------------------------------------------------
class Run:
    def __init__(self, args, database_url: str, label: str, pg=None):
        from redis import Redis

        from tikabot.stack.processes import free_port
        from tikabot.stack.redis_server import EmbeddedRedis

        self.args, self.label, self.pg = args, label, pg
        self.work = Path(tempfile.mkdtemp(prefix="tikabot-bench-"))
        self.redis_server = EmbeddedRedis(data_dir=self.work / "redis")
        self.redis_server.start()
        self.redis = Redis.from_url(self.redis_server.url)
        self.redis_pid = int(self.redis.info("server")["process_id"])
        # The reminder planner is held off: every seeded beneficiary is booked for today, and their
        # reminders are bulk sends, not the inbound path measured here (the planner's own key, as
        # if it had just run: tikabot/tasks/schedule.py)
        self.redis.set("tikabot:periodic:planner", "1", ex=24 * 3600)
        self.database_url = database_url
        self.sim = Simulator(self.work)
        self.env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": self.redis_server.url,
                    "TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_FROM": SENDER,
                    "TWILIO_API_BASE": self.sim.url, "PUBLIC_BASE_URL": PUBLIC, "OTP_SECRET": "bench",
                    "PYTHONPATH": str(ROOT), "SEND_RATE": "5000", "TIKABOT_QUIET_HOURS": "off",
                    "TIKABOT_SPOOL_DIR": str(self.work / "spool")}
        self.services = Services(self.env, self.work)
        self.port = free_port()
        self.free_port = free_port
        self.pairs: list = []
        self.used = 0

    def take(self, count: int) -> list:
        chunk = self.pairs[self.used:self.used + count]
        self.used += len(chunk)
        if len(chunk) < count:
            raise RuntimeError("seed more beneficiaries")
        return chunk

    def db(self, sql: str):
        from sqlalchemy import text

        from tikabot.store.db import make_engine

        engine = make_engine(self.database_url)
        try:
            with engine.begin() as conn:
                result = conn.execute(text(sql))
                return result.scalar() if result.returns_rows else result.rowcount
        finally:
            engine.dispose()

    def pg_stats(self) -> tuple[int, int]:
        if self.pg is None:
            return 0, 0
        from sqlalchemy import text

        from tikabot.store.db import make_engine

        engine = make_engine(self.database_url)
        with engine.connect() as conn:
            row = conn.execute(text("SELECT xact_commit, tup_inserted + tup_updated + tup_deleted FROM "
                                    "pg_stat_database WHERE datname = current_database()")).one()
        engine.dispose()
        return int(row[0]), int(row[1])

    def redis_commands(self) -> int:
        return int(self.redis.info("stats")["total_commands_processed"])

    def cpu(self) -> dict:
        out = {kind: proc_cpu(self.services.pids(kind)) for kind in ("web", "inbox", "send")}
        out["redis"] = proc_cpu([self.redis_pid])
        out["database"] = proc_cpu(self.pg.pids()) if self.pg else 0.0
        return out

    def fire(self, pairs, **spec) -> dict:
        spec = {"port": self.port, "pairs": [(p, r) for p, r, _ in pairs], "tag": spec.pop("tag"), **spec}
        return run_client(spec, self.work)

    # 1. acceptance
    def acceptance(self) -> dict:
        rounds, per = self.args.rounds, self.args.requests
        bare, mine = [], []
        for n in range(rounds):
            for kind, runs in (("bare", bare), ("tikabot", mine)):
                target, chdir = (("bare_app:app", ROOT / "bench") if kind == "bare" else ("tikabot.app:create_app()", ROOT))
                self.services.web(self.args.web_workers, self.port, target, chdir)
                try:
                    self.fire(self.take(200), tag=f"w{kind[0]}{n}", concurrency=64)  # warm-up
                    before = proc_cpu(self.services.pids("web")), resource.getrusage(resource.RUSAGE_CHILDREN)
                    result = self.fire(self.take(per), tag=f"a{kind[0]}{n}", concurrency=64)
                    result["web_cpu_ms"] = (proc_cpu(self.services.pids("web")) - before[0]) * 1000 / per
                    runs.append(result)
                finally:
                    self.services.stop("web")
            print(f"  round {n + 1}: bare {bare[-1]['rate']:6.0f} req/s (p99 {bare[-1]['p99_ms']:.0f} ms)   "
                  f"inbox {mine[-1]['rate']:6.0f} req/s (p99 {mine[-1]['p99_ms']:.0f} ms, web CPU "
                  f"{mine[-1]['web_cpu_ms']:.2f} ms/req, statuses {mine[-1]['statuses']})", flush=True)
        kept = self.db("SELECT count(*) FROM inbound_messages")
        ratio = statistics.median(m["rate"] / b["rate"] for m, b in zip(mine, bare))
        return {"bare_rate": statistics.median(b["rate"] for b in bare),
                "inbox_rate": statistics.median(m["rate"] for m in mine), "ratio": ratio,
                "inbox_p99_ms": statistics.median(m["p99_ms"] for m in mine),
                "web_cpu_ms": statistics.median(m["web_cpu_ms"] for m in mine),
                "bare_web_cpu_ms": statistics.median(b["web_cpu_ms"] for b in bare),
                "loader_cpu_ms": statistics.median(b["cpu_ms_per_request"] for b in bare), "kept": kept,
                "sent": sum(m["requests"] for m in mine) + 200 * rounds}

    # 1b. the accepted messages as a backlog: processed, then sent, each kind of worker alone
    def backlog(self, reports: int) -> dict:
        """CPU per report of one inbox worker processing `reports` waiting messages (full claims and
        rounds), then of one send worker sending their 2 x reports messages (full jobs): the design's
        cost when work queues up, as after an outage, against the trickle of the end-to-end run."""
        self.sim.reset()
        out = {"reports": reports}
        far = "'2099-01-01 00:00:00'"
        # held back while the worker starts (a lease, a not-before far ahead), let go once it is up
        kinds = (("inbox", f"UPDATE inbound_messages SET lease_until = {far} WHERE status = 'new'",
                  "UPDATE inbound_messages SET lease_until = NULL WHERE status = 'new'",
                  lambda: self.db("SELECT count(*) FROM inbound_messages WHERE status = 'new'") == 0),
                 ("send", f"UPDATE outbound_messages SET not_before = {far} WHERE status = 'pending'",
                  "UPDATE outbound_messages SET not_before = NULL WHERE status = 'pending'",
                  lambda: self.sim.created() >= 2 * reports))
        for kind, hold, release, done in kinds:
            self.db(hold)
            getattr(self.services, kind)(1)
            time.sleep(3)  # imports and connections (the worker's start-up is not the figure)
            cpu0, t0 = proc_cpu(self.services.pids(kind)), time.monotonic()
            self.db(release)
            while not done() and time.monotonic() - t0 < 300:
                time.sleep(0.05)
            out[f"{kind}_ms"] = (proc_cpu(self.services.pids(kind)) - cpu0) * 1000 / reports
            out[f"{kind}_s"] = time.monotonic() - t0
            self.services.stop(kind)
        return out

    def start_stack(self, web: int, inbox: int, send: int) -> None:
        self.services.web(web, self.port)
        self.services.inbox(inbox)
        self.services.send(send)
        time.sleep(3)  # workers import and connect

    def wait_messages(self, expected: int, timeout: float) -> float | None:
        """Wait until the simulator has `expected` messages; the time it had them (None: timeout)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.sim.created() >= expected:
                return time.time()
            time.sleep(0.1)
        return None

    # 2. end to end, sustained
    def end_to_end(self, seconds: float, label: str = "") -> dict:
        self.sim.reset()
        pairs = self.take(int(seconds * self.args.max_rate))
        cpu0, redis0, pg0, wall0 = self.cpu(), self.redis_commands(), self.pg_stats(), time.time()
        sim0 = proc_cpu([self.sim.proc.pid])
        load = self.fire(pairs, tag=f"e{label}{int(seconds)}", concurrency=self.args.concurrency, duration=seconds)
        at_end = self.sim.created()
        accepted = load["statuses"].get("200", 0)
        done_at = self.wait_messages(2 * accepted, timeout=600)
        cpu1, redis1, pg1 = self.cpu(), self.redis_commands(), self.pg_stats()
        sim_ms = (proc_cpu([self.sim.proc.pid]) - sim0) * 1000 / max(1, accepted)
        span = (done_at or time.time()) - wall0
        cpu_ms = {k: (cpu1[k] - cpu0[k]) * 1000 / max(1, accepted) for k in cpu0}
        return {"offered_rate": load["rate"], "accepted": accepted, "statuses": load["statuses"],
                "accept_p99_ms": load["p99_ms"], "rate": accepted / span if done_at else 0.0,
                "in_window_rate": at_end / 2 / seconds, "drained": done_at is not None, "seconds": span,
                "cpu_ms": cpu_ms, "cpu_total_ms": sum(cpu_ms.values()), "simulator_cpu_ms": sim_ms,
                "loader_cpu_ms": load["cpu_ms_per_request"],
                "redis_per_report": (redis1 - redis0) / max(1, accepted),
                "db_commits_per_report": (pg1[0] - pg0[0]) / max(1, accepted) if self.pg else None,
                "db_rows_per_report": (pg1[1] - pg0[1]) / max(1, accepted) if self.pg else None}

    # the parts tikabot does not write: the official Twilio client's cost per message, in this process
    def provider_client(self, count: int = 2000) -> float:
        """CPU ms per message of TwilioSender.send (twilio's async client on aiohttp, our thin
        translation around it) sending `count` messages to the simulator, 64 at a time."""
        from types import SimpleNamespace

        from tikabot.handlers.twilio_sms import TwilioSender
        from tikabot.core.sending import Outgoing

        config = SimpleNamespace(twilio_account_sid=ACCOUNT, twilio_auth_token=TOKEN, twilio_api_base=self.sim.url,
                                 twilio_timeout=30.0, twilio_messaging_service_sid=None, twilio_from=SENDER,
                                 public_base_url=None)

        async def go() -> float:
            sender = TwilioSender(config)
            gate = asyncio.Semaphore(64)

            async def one(n):
                async with gate:
                    await sender.send(Outgoing(id=n, attempt=1, channel="sms", recipient=f"+9196{n:08d}",
                                               body=f"Recorded: {n} dose 1 COVISHIELD lot 4120Z025.", language="en",
                                               priority="reply", expires_at=None))
            try:
                await asyncio.gather(*(one(n) for n in range(200)))  # warm: connections open
                cpu0 = time.process_time()
                await asyncio.gather(*(one(n) for n in range(count)))
                return (time.process_time() - cpu0) * 1000 / count
            finally:
                await sender.close()

        self.sim.reset()
        return asyncio.run(go())

    # 3. latency at a given offered rate
    def latency(self, rate: float, seconds: float) -> dict:
        self.sim.reset()
        pairs = self.take(int(rate * seconds) + 1)
        load = self.fire(pairs, tag=f"l{int(rate)}", rate=rate, duration=seconds, keep_times=True)
        accepted = load["statuses"].get("200", 0)
        self.wait_messages(2 * accepted, timeout=300)
        sent_at = load["sent_at"]
        staff = {p for p, _, _ in pairs}
        by_phone = {b: r for _, r, b in pairs}
        replies, confirmations = [], []
        for m in self.sim.get("/_sim/messages"):
            if m["to"] in staff and m["body"].startswith("Recorded: "):
                ref = m["body"].split()[1]
                if ref in sent_at:
                    replies.append(m["created"] - sent_at[ref])
            elif m["to"] in by_phone and by_phone[m["to"]] in sent_at:
                confirmations.append(m["created"] - sent_at[by_phone[m["to"]]])
        q = lambda xs, p: sorted(xs)[min(len(xs) - 1, int(p * len(xs)))] * 1000 if xs else float("nan")  # noqa: E731
        return {"offered": load["rate"], "accepted": accepted, "replies": len(replies),
                "confirmations": len(confirmations), "reply_p50_ms": q(replies, 0.5), "reply_p99_ms": q(replies, 0.99),
                "confirmation_p50_ms": q(confirmations, 0.5), "confirmation_p99_ms": q(confirmations, 0.99),
                "accept_p99_ms": load["p99_ms"]}

    # 4. burst
    def burst(self, count: int) -> dict:
        self.sim.reset()
        pairs = self.take(count)
        refs = [r for _, r, _ in pairs]
        load = self.fire(pairs, tag="burst", concurrency=256)
        ended = time.time()
        accepted = load["statuses"].get("200", 0)
        done_at = self.wait_messages(2 * accepted, timeout=1200)
        first, last = refs[0], refs[-1]
        doses = self.db(f"SELECT count(*) FROM doses d JOIN beneficiaries b ON b.id = d.beneficiary_id "
                        f"WHERE b.ref >= '{first}' AND b.ref <= '{last}'")
        waiting = self.db("SELECT count(*) FROM inbound_messages WHERE status = 'new'")
        return {"offered": count, "accept_rate": load["rate"], "statuses": load["statuses"],
                "answered_2xx_share": accepted / count, "doses": doses, "lost": accepted - doses,
                "messages_at_provider": self.sim.created(), "inbox_waiting": waiting,
                "drain_s": (done_at - ended) if done_at else None, "accept_p99_ms": load["p99_ms"]}

    def floor(self, acceptance: dict, e2e: dict) -> dict:
        """What the machine can reach at best: the CPU per report of the parts around tikabot
        (the load generator, the web server and framework, Twilio's client, the simulator)."""
        client = 2 * self.provider_client()
        parts = {"loader": acceptance["loader_cpu_ms"], "bare_web": acceptance["bare_web_cpu_ms"], "client": client,
                 "simulator": e2e["simulator_cpu_ms"]}
        parts["total"] = sum(parts.values())
        all_ms = e2e["cpu_total_ms"] + parts["loader"] + parts["simulator"]
        return {**parts, "all_ms": all_ms, "ceiling_parts": CORES * 1000 / parts["total"],
                "ceiling_measured": CORES * 1000 / all_ms, "cores_for_600": 600 * all_ms / 1000,
                "our_cores_for_600": 600 * e2e["cpu_total_ms"] / 1000}

    def close(self) -> None:
        self.services.stop()
        self.sim.close()
        self.redis.close()
        self.redis_server.stop()


def one_database(args, url: str, label: str, pg=None) -> dict:
    run = Run(args, url, label, pg)
    figures: dict = {"label": label}
    try:
        need = (args.rounds * 2 * (args.requests + 200) + int(args.seconds * args.max_rate)
                + 2 * int(args.rate * args.latency_seconds) + 20 + args.burst
                + (len(args.scale) * int(args.scale_seconds * args.max_rate) if pg else 0))
        t = time.monotonic()
        run.pairs = seed(url, need)
        print(f"[{label}] seeded {need} beneficiaries, {SITES} sites, {SITES * STAFF_PER_SITE} staff "
              f"in {time.monotonic() - t:.0f} s", flush=True)
        print(f"[{label}] 1. acceptance: gunicorn {args.web_workers} sync workers, 64 connections, "
              f"{args.requests} requests per run, {args.rounds} rounds", flush=True)
        figures["acceptance"] = run.acceptance()
        a = figures["acceptance"]
        print(f"[{label}]    median: inbox {a['inbox_rate']:.0f} req/s, bare {a['bare_rate']:.0f} req/s, "
              f"inbox/bare {a['ratio']:.0%} (target >= 40 %), web CPU {a['web_cpu_ms']:.2f} ms per request; "
              f"{a['kept']} kept of {a['sent']} sent", flush=True)
        k = figures["backlog"] = run.backlog(a["kept"])
        print(f"[{label}]    the {k['reports']} kept as a backlog: one inbox worker processed them in {k['inbox_s']:.1f} s, "
              f"{k['inbox_ms']:.2f} ms CPU per report; one send worker sent their {2 * k['reports']} messages in "
              f"{k['send_s']:.1f} s, {k['send_ms']:.2f} ms per report (web {a['web_cpu_ms']:.2f}: "
              f"{a['web_cpu_ms'] + k['inbox_ms'] + k['send_ms']:.2f} ms per report in all, Redis aside)", flush=True)
        run.start_stack(args.web_workers, args.inbox_workers, args.send_workers)
        print(f"[{label}] 2. end to end for {args.seconds:.0f} s, {args.concurrency} connections: web {args.web_workers}, "
              f"inbox workers {args.inbox_workers}, send workers {args.send_workers}", flush=True)
        e = figures["end_to_end"] = run.end_to_end(args.seconds)
        print(f"[{label}]    {e['accepted']} accepted ({e['offered_rate']:.0f}/s offered and answered, p99 "
              f"{e['accept_p99_ms']:.0f} ms, statuses {e['statuses']}); DOSE end to end {e['rate']:.0f}/s over "
              f"{e['seconds']:.0f} s to the last message (target >= 600/s), {e['in_window_rate']:.0f}/s within the "
              f"window; drained: {e['drained']}", flush=True)
        print(f"[{label}]    CPU per report: " + ", ".join(f"{k} {v:.2f} ms" for k, v in e["cpu_ms"].items())
              + f"; total {e['cpu_total_ms']:.2f} ms (target <= 2 ms); Redis commands per report "
              f"{e['redis_per_report']:.1f}" + (f"; database commits per report {e['db_commits_per_report']:.2f}, "
                                                f"rows written {e['db_rows_per_report']:.1f}" if pg else ""), flush=True)
        floor = figures["floor"] = run.floor(a, e)
        print(f"[{label}]    the parts tikabot does not write, CPU per report: load generator {floor['loader']:.2f} ms, "
              f"bare Flask under gunicorn {floor['bare_web']:.2f} ms, Twilio's client x2 {floor['client']:.2f} ms, "
              f"provider simulator {floor['simulator']:.2f} ms; together {floor['total']:.2f} ms", flush=True)
        print(f"[{label}]    on {CORES} cores: at most {floor['ceiling_parts']:.0f} DOSE/s if tikabot's own work cost "
              f"nothing; {floor['ceiling_measured']:.0f} DOSE/s with it ({floor['all_ms']:.2f} ms per report, "
              f"everything on the machine); 600/s needs {floor['cores_for_600']:.1f} cores of this machine "
              f"(tikabot's part: {floor['our_cores_for_600']:.1f})", flush=True)
        print(f"[{label}] 3. reply latency at {args.rate:.0f} reports/s offered for {args.latency_seconds:.0f} s", flush=True)
        lat = figures["latency"] = run.latency(args.rate, args.latency_seconds)
        print(f"[{label}]    offered {lat['offered']:.0f}/s, {lat['accepted']} accepted; staff reply p50 "
              f"{lat['reply_p50_ms']:.0f} ms, p99 {lat['reply_p99_ms']:.0f} ms (target <= 2000), confirmation "
              f"p50 {lat['confirmation_p50_ms']:.0f} ms, p99 {lat['confirmation_p99_ms']:.0f} ms "
              f"({lat['replies']} replies, {lat['confirmations']} confirmations seen)", flush=True)
        within = max(10.0, round(0.7 * e["rate"]))  # the same, offered within what this machine carries
        print(f"[{label}]    and at {within:.0f} reports/s offered (70 % of the end-to-end rate above) for "
              f"{args.latency_seconds:.0f} s", flush=True)
        low = figures["latency_within"] = run.latency(within, args.latency_seconds)
        print(f"[{label}]    offered {low['offered']:.0f}/s, {low['accepted']} accepted; staff reply p50 "
              f"{low['reply_p50_ms']:.0f} ms, p99 {low['reply_p99_ms']:.0f} ms, confirmation p50 "
              f"{low['confirmation_p50_ms']:.0f} ms, p99 {low['confirmation_p99_ms']:.0f} ms", flush=True)
        print(f"[{label}] 4. burst of {args.burst} reports, 256 connections", flush=True)
        b = figures["burst"] = run.burst(args.burst)
        print(f"[{label}]    accepted at {b['accept_rate']:.0f}/s (p99 {b['accept_p99_ms']:.0f} ms), statuses "
              f"{b['statuses']}, 2xx {b['answered_2xx_share']:.1%}; doses {b['doses']}, lost {b['lost']}; "
              f"drained {b['drain_s'] and round(b['drain_s'], 1)} s after the last answer; "
              f"{b['messages_at_provider']} messages at the provider", flush=True)
        run.services.stop()
        if pg is not None and args.scale:
            figures["scale"] = []
            print(f"[{label}] 5. scale-out on one PostgreSQL, {args.scale_seconds:.0f} s each", flush=True)
            for shape in args.scale:
                web, inbox, send = shape
                run.start_stack(web, inbox, send)
                s = run.end_to_end(args.scale_seconds, label=f"s{web}{inbox}{send}")
                run.services.stop()
                figures["scale"].append({"web": web, "inbox": inbox, "send": send, **s})
                print(f"[{label}]    web {web} + inbox {inbox} + send {send}: {s['rate']:.0f} DOSE/s end to end, "
                      f"accepted {s['offered_rate']:.0f}/s, CPU {s['cpu_total_ms']:.2f} ms per report", flush=True)
    finally:
        run.close()
    return figures


def capacity(figures: dict) -> None:
    e = figures["end_to_end"]
    cpu = e["cpu_ms"]
    per_report = e["cpu_total_ms"]
    web = cpu["web"]
    workers = cpu["inbox"] + cpu["send"]
    day_rate = STATE_DAY["sites"] * STATE_DAY["doses_per_site"] / (STATE_DAY["hours"] * 3600)
    shapes = [("state day, average", day_rate), ("state day, peak x3", day_rate * STATE_DAY["peak_factor"]),
              ("national peak", NATIONAL["doses_per_s"])]
    print(f"capacity from {figures['label']}'s measured CPU per DOSE report (web {web:.2f} ms, workers "
          f"{workers:.2f} ms, Redis {cpu['redis']:.2f} ms, database server {cpu['database']:.2f} ms; "
          f"{e['redis_per_report']:.1f} Redis commands"
          + (f", {e['db_commits_per_report']:.2f} commits" if e.get("db_commits_per_report") else "") + " per report):")
    print(f"  {'load':22} {'DOSE/s':>7} {'web cores':>10} {'worker cores':>13} {'Redis cores':>12} "
          f"{'DB cores':>9} {'Redis ops/s':>12} {'DB commits/s':>13}")
    for name, rate in shapes:
        commits = (f"{rate * e['db_commits_per_report']:13.0f}" if e.get("db_commits_per_report")
                   else f"{'-':>13}")  # SQLite: in the workers' processes, not counted
        print(f"  {name:22} {rate:7.0f} {rate * web / 1000:10.2f} {rate * workers / 1000:13.2f} "
              f"{rate * cpu['redis'] / 1000:12.2f} {rate * cpu['database'] / 1000:9.2f} "
              f"{rate * e['redis_per_report']:12.0f} {commits}")
    sms = NATIONAL["sms_per_s"]
    print(f"  national peak SMS {sms}/s: every inbound SMS costs about one report's web + worker CPU "
          f"(a DOSE is the costliest), so at most {sms * (web + workers) / 1000:.1f} cores of web and workers")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short version (about a minute and a half a database)")
    parser.add_argument("--databases", default="sqlite,postgres", help="sqlite, postgres or both")
    parser.add_argument("--database-url", help="an empty PostgreSQL database instead of a throwaway one")
    parser.add_argument("--requests", type=int, default=3000, help="acceptance: requests per round and endpoint")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=60.0, help="end to end: how long load is offered")
    parser.add_argument("--rate", type=float, default=400.0, help="latency: reports/s offered")
    parser.add_argument("--latency-seconds", type=float, default=30.0)
    parser.add_argument("--burst", type=int, default=30000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--inbox-workers", type=int, default=2)
    parser.add_argument("--send-workers", type=int, default=1)
    parser.add_argument("--max-rate", type=float, default=1500.0, help="beneficiaries seeded per second of load")
    parser.add_argument("--scale", default="2x1x1,2x2x1,4x4x2", help="web x inbox x send shapes on PostgreSQL")
    parser.add_argument("--scale-seconds", type=float, default=20.0)
    args = parser.parse_args()
    if args.quick:
        args.requests, args.rounds, args.seconds = 1000, 1, 8.0
        args.latency_seconds, args.burst, args.scale_seconds = 5.0, 2000, 5.0
        args.scale = "2x1x1,4x4x2"
    args.scale = [tuple(int(x) for x in s.split("x")) for s in args.scale.split(",") if s]
    from tikabot.stack.processes import free_port

    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start, {date.today()}"
          f"{' (quick)' if args.quick else ''}", flush=True)
    results = []
    for name in [n.strip() for n in args.databases.split(",") if n.strip()]:
        if name == "sqlite":
            work = Path(tempfile.mkdtemp(prefix="tikabot-bench-db-"))
            results.append(one_database(args, f"sqlite:///{work / 'bench.db'}", "SQLite"))
        elif name == "postgres":
            import pg as pgmod

            if args.database_url:
                results.append(one_database(args, args.database_url, "PostgreSQL"))
                continue
            if not pgmod.available():
                print("PostgreSQL: initdb/pg_ctl not found, skipped")
                continue
            server = pgmod.TempPostgres(free_port()).init()
            try:
                results.append(one_database(args, server.url, "PostgreSQL", pg=server))
            finally:
                server.close()
    print("\nsummary" + " " * 36 + "".join(f"{r['label']:>14}" for r in results))
    rows = [("acceptance, inbox req/s", lambda r: f"{r['acceptance']['inbox_rate']:.0f}"),
            ("acceptance, bare Flask req/s", lambda r: f"{r['acceptance']['bare_rate']:.0f}"),
            ("acceptance, inbox / bare", lambda r: f"{r['acceptance']['ratio']:.0%}"),
            ("end to end DOSE/s", lambda r: f"{r['end_to_end']['rate']:.0f}"),
            ("CPU per report, ms", lambda r: f"{r['end_to_end']['cpu_total_ms']:.2f}"),
            ("CPU per report from a backlog, ms", lambda r: f"{r['acceptance']['web_cpu_ms'] + r['backlog']['inbox_ms'] + r['backlog']['send_ms']:.2f}"),
            ("CPU of the parts around tikabot, ms", lambda r: f"{r['floor']['total']:.2f}"),
            ("DOSE/s ceiling if tikabot cost nothing", lambda r: f"{r['floor']['ceiling_parts']:.0f}"),
            ("DOSE/s ceiling with tikabot", lambda r: f"{r['floor']['ceiling_measured']:.0f}"),
            (f"reply p50 ms at {args.rate:.0f}/s", lambda r: f"{r['latency']['reply_p50_ms']:.0f}"),
            (f"reply p99 ms at {args.rate:.0f}/s", lambda r: f"{r['latency']['reply_p99_ms']:.0f}"),
            ("reply p50 ms at 70% of end to end", lambda r: f"{r['latency_within']['reply_p50_ms']:.0f}"),
            ("reply p99 ms at 70% of end to end", lambda r: f"{r['latency_within']['reply_p99_ms']:.0f}"),
            ("  (offered reports/s)", lambda r: f"{r['latency_within']['offered']:.0f}"),
            ("burst 2xx share", lambda r: f"{r['burst']['answered_2xx_share']:.1%}"),
            ("burst lost", lambda r: f"{r['burst']['lost']}"),
            ("burst drain s", lambda r: f"{r['burst']['drain_s'] or float('nan'):.1f}")]
    for name, value in rows:
        print(f"  {name:41}" + "".join(f"{value(r):>14}" for r in results))
    for r in results:
        print()
        capacity(r)
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        client_main(sys.argv[2])
    else:
        main()
