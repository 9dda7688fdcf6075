"""Benchmark: signed DOSE reports per second through POST /sms/inbound under gunicorn.

Runs the real app (2 sync workers) on loopback with an embedded Redis and SQLite in WAL mode,
and, in the same run, a bare Flask endpoint under the same gunicorn settings. The load comes
from a separate process: aiohttp with many concurrent connections, every request pre-signed with
Twilio's algorithm, each a distinct DOSE for a distinct beneficiary. Prints req/s, p50 and p99.

    .venv/bin/python bench/inbound.py [--requests 3000] [--rounds 3] [--concurrency 64]

Each round runs the bare endpoint, then tikabot, each on a fresh gunicorn; the medians over the
rounds are the figures to quote (single runs on a 2-core machine vary by a fifth). CPU time per
request is read from /proc for the app's processes and Redis, and from the load generator's rusage.

Targets (issue 4): >= 500 DOSE/s, and >= 40 % of the bare endpoint's rate.
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
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOKEN = "bench-auth-token-0123456789abcdef"
PUBLIC = "https://tikabot.example.org"
SITES, STAFF_PER_SITE = 40, 10
WORKERS = 2  # as the Procfile ships


def seed(database_url: str, beneficiaries: int) -> list[tuple[str, str]]:
    """Sites, staff and beneficiaries; returns (staff phone, ref) pairs, one per DOSE to send."""
    from tikabot.store.db import make_engine, make_sessionmaker, transaction
    from tikabot.store.migrate import upgrade
    from tikabot.store.models import Beneficiary, Site, Staff

    engine = make_engine(database_url)
    upgrade(engine)
    pairs = []
    with transaction(make_sessionmaker(engine)) as s:
        sites = [Site(code=f"S{i:03d}", name=f"Site {i}") for i in range(SITES)]
        s.add_all(sites)
        s.flush()
        staff = [Staff(phone=f"+9198300{i:05d}", name=f"Vaccinator {i}", role="vaccinator",
                       site_id=sites[i % SITES].id, language="en") for i in range(SITES * STAFF_PER_SITE)]
        s.add_all(staff)
        s.flush()
        people = [Beneficiary(ref=f"{10_000_000 + i}", name=f"Person {i}", phone=f"+9197300{i:05d}", language="bn",
                              site_id=sites[i % SITES].id) for i in range(beneficiaries)]
        s.add_all(people)
        pairs = [(staff[i % len(staff)].phone, p.ref) for i, p in enumerate(people)]
    engine.dispose()
    return pairs


def signed_requests(pairs: list[tuple[str, str]], tag: str) -> list[dict]:
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(TOKEN)
    out = []
    for n, (phone, ref) in enumerate(pairs):
        params = {"MessageSid": f"SM{tag}{n:030d}", "AccountSid": "AC" + "1" * 32, "From": phone,
                  "To": "+919800000000", "Body": f"DOSE {ref} 1 CS 4120Z025", "NumMedia": "0",
                  "NumSegments": "1", "SmsStatus": "received", "ApiVersion": "2010-04-01"}
        out.append({"params": params, "signature": validator.compute_signature(PUBLIC + "/sms/inbound", params)})
    return out


def start_gunicorn(target: str, port: int, env: dict, chdir: Path, workers: int) -> subprocess.Popen:
    from tikabot.processes import wait_for_port

    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
                             "--chdir", str(chdir), "--log-level", "warning", target],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_for_port(port)
    return proc


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its children still running, from /proc (Linux)."""
    pids, total = [pid], 0.0
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        pids.append(int(child))
    for one in pids:
        fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _children_cpu() -> float:
    """CPU time of finished child processes (the load generator)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_client(port: int, requests_file: Path, concurrency: int) -> dict:
    """Fire the requests from a separate process; returns its JSON figures."""
    out = subprocess.run([sys.executable, __file__, "--client", str(port), str(requests_file), str(concurrency)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


async def _fire(port: int, requests: list[dict], concurrency: int) -> dict:
    import aiohttp

    latencies, statuses, recorded = [], {}, 0
    queue = list(reversed(requests))

    async def worker(session):
        nonlocal recorded
        while queue:
            req = queue.pop()
            start = time.perf_counter()
            async with session.post(f"http://127.0.0.1:{port}/sms/inbound", data=req["params"],
                                    headers={"X-Twilio-Signature": req["signature"]}) as resp:
                body = await resp.text()
            latencies.append(time.perf_counter() - start)
            statuses[resp.status] = statuses.get(resp.status, 0) + 1
            recorded += "Recorded:" in body

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        began = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    return {"requests": len(latencies), "seconds": elapsed, "rate": len(latencies) / elapsed,
            "p50_ms": pick(0.50), "p99_ms": pick(0.99), "statuses": statuses, "recorded": recorded}


def client_main(port: str, requests_file: str, concurrency: str) -> None:
    requests = json.loads(Path(requests_file).read_text())
    print(json.dumps(asyncio.run(_fire(int(port), requests, int(concurrency)))))


def _measure(target: str, chdir: Path, tag: str, chunks: list, env: dict, work: Path, args, redis_pid: int) -> dict:
    """Start gunicorn on `target`, warm it up, fire the run's requests; the run's figures."""
    from tikabot.processes import free_port

    port = free_port()
    proc = start_gunicorn(target, port, env, chdir, args.workers)
    try:
        for phase, chunk in zip(("warmup", "run"), chunks):
            file = work / f"{tag}-{phase}.json"
            file.write_text(json.dumps(signed_requests(chunk, tag + phase[0])))
            before = cpu_seconds(proc.pid), cpu_seconds(redis_pid), _children_cpu()
            result = run_client(port, file, args.concurrency)
            after = cpu_seconds(proc.pid), cpu_seconds(redis_pid), _children_cpu()
            for key, start, end in zip(("app", "redis", "client"), before, after):
                result[f"{key}_cpu_ms"] = (end - start) * 1000 / len(chunk)
    finally:
        proc.terminate()
        proc.wait(10)
    return result


def _line(name: str, r: dict) -> str:
    return (f"  {name:13} {r['rate']:6.0f} req/s  p50 {r['p50_ms']:5.1f} ms  p99 {r['p99_ms']:5.1f} ms  CPU per request: "
            f"app {r['app_cpu_ms']:.2f} ms, Redis {r['redis_cpu_ms']:.2f} ms, load generator {r['client_cpu_ms']:.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests per round and endpoint")
    parser.add_argument("--rounds", type=int, default=3, help="bare and DOSE runs, alternating; medians reported")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--workers", type=int, default=WORKERS, help="gunicorn sync workers (default: the Procfile's)")
    parser.add_argument("--database-url", help="an empty database to use instead of a new SQLite file (PostgreSQL: "
                                               "postgresql+psycopg://...); its tables are created")
    args = parser.parse_args()

    from redis import Redis
    from sqlalchemy import text

    from tikabot.redis_server import EmbeddedRedis
    from tikabot.store.db import make_engine

    work = Path(tempfile.mkdtemp(prefix="tikabot-bench-"))
    redis = EmbeddedRedis(data_dir=work / "redis")
    redis.start()
    database_url = args.database_url or f"sqlite:///{work / 'bench.db'}"
    warmup, per_round = 200, args.requests + 200
    pairs = seed(database_url, per_round * args.rounds)
    redis_pid = int(Redis.from_url(redis.url).info("server")["process_id"])
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis.url, "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
           "TWILIO_AUTH_TOKEN": TOKEN, "PUBLIC_BASE_URL": PUBLIC, "OTP_SECRET": "bench", "PYTHONPATH": str(ROOT)}
    backend = make_engine(database_url).url.get_backend_name()
    print(f"{os.cpu_count()} CPUs, {backend}, gunicorn {args.workers} sync workers, {args.concurrency} connections, "
          f"{args.requests} requests per run (after {warmup} warm-up), {args.rounds} rounds, {date.today()}")
    bare_runs, dose_runs = [], []
    try:
        for n in range(args.rounds):
            mine = pairs[n * per_round:(n + 1) * per_round]
            chunks = [mine[:warmup], mine[warmup:]]
            bare = _measure("bare_app:app", ROOT / "bench", f"b{n}", chunks, env, work, args, redis_pid)
            dose = _measure("tikabot.app:create_app()", ROOT, f"t{n}", chunks, env, work, args, redis_pid)
            bare_runs.append(bare)
            dose_runs.append(dose)
            print(f"round {n + 1}:  DOSE / bare = {dose['rate'] / bare['rate']:.0%}   "
                  f"(DOSE replies 'Recorded': {dose['recorded']}/{dose['requests']}, statuses {dose['statuses']})")
            print(_line("bare Flask", bare))
            print(_line("tikabot DOSE", dose))
        engine = make_engine(database_url)
        with engine.connect() as conn:
            doses = conn.execute(text("SELECT count(*) FROM doses")).scalar()
            outbox = conn.execute(text("SELECT count(*) FROM outbound_messages")).scalar()
        engine.dispose()
    finally:
        redis.stop()
    sent = sum(r["requests"] for r in dose_runs) + warmup * args.rounds
    print(f"database: {doses} doses and {outbox} confirmations in the outbox for {sent} DOSE reports")
    median = lambda runs, key: statistics.median(r[key] for r in runs)  # noqa: E731
    ratio = statistics.median(d["rate"] / b["rate"] for d, b in zip(dose_runs, bare_runs))
    print(f"median of {args.rounds}: DOSE {median(dose_runs, 'rate'):.0f} req/s (p99 {median(dose_runs, 'p99_ms'):.0f} ms), "
          f"bare {median(bare_runs, 'rate'):.0f} req/s, DOSE / bare = {ratio:.0%}   (targets: >= 500 DOSE/s, >= 40 %)")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        client_main(*sys.argv[2:5])
    else:
        main()
