"""Dispatch benchmark: N messages outbox -> RQ -> twilio client -> simulator, with the worker
setup we ship (`tikabot worker`: SimpleWorker, 200-id jobs, async client, OTP lane, relay),
against a bare twilio-client loop on the same simulator; then OTP latency idle and while a
bulk backlog drains.

    .venv/bin/python bench/dispatch.py [--messages 20000] [--workers 1] [--otps 60]

Prints msg/s, the ratio to the bare loop, worker CPU per message, OTP p50/p99. Status
callbacks are off here (PUBLIC_BASE_URL unset) so both sides make the same one request per
message; the send side is what is measured.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from datetime import timedelta

from harness import SENDER, Stack, cpu_seconds, wait_until
from sqlalchemy import func, select, update

from tikabot.core.clock import now
from tikabot.handlers.twilio_client import close_async_client, make_async_client
from tikabot.outbox import transport
from tikabot.outbox.messages import add_message
from tikabot.store.models import OutboundMessage

IN_FLIGHT = 64


async def bare_loop(stack: Stack, count: int) -> float:
    client = make_async_client(stack.config.twilio_account_sid, stack.config.twilio_auth_token,
                               api_base=stack.sim_url, timeout=5.0, max_connections=IN_FLIGHT)
    queue: asyncio.Queue = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)

    async def lane():
        while not queue.empty():
            i = queue.get_nowait()
            await client.messages.create_async(to=f"+9197{i:08d}", from_=SENDER, body=f"Reminder {i}: dose 2 tomorrow")

    start = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(IN_FLIGHT)))
    elapsed = time.perf_counter() - start
    await close_async_client(client)
    return count / elapsed


def add_bulk(stack: Stack, count: int, prefix: str, held: bool = False) -> list[int]:
    """Outbox rows written without dispatch. held: due only next year, so the worker's relay (which
    sends pending rows Redis does not know) cannot send them before the timed part starts."""
    later = now() + timedelta(days=365) if held else None
    with stack.services.sessions() as session, session.begin():  # no transaction unit: no hand-off
        return [add_message(session, key=f"{prefix}{i}", recipient=f"+9198{i:08d}", template="x",
                            body=f"Reminder {i}: your dose 2 is tomorrow at the site.",
                            priority="bulk", not_before=later).id for i in range(count)]


def release(stack: Stack, ids: list[int]) -> None:
    """Make held rows due now and queue them: the start of the timed part."""
    with stack.services.transaction() as session:
        session.execute(update(OutboundMessage).where(OutboundMessage.id.in_(ids))
                        .values(not_before=None, updated_at=now()))
    transport.enqueue(stack.services.redis, [(i, "bulk") for i in ids])


def done_count(stack: Stack, first_id: int) -> int:
    with stack.services.sessions() as session:
        return session.scalar(select(func.count()).where(OutboundMessage.id >= first_id,
                                                        OutboundMessage.status.in_(("accepted", "sent", "delivered"))))


def send_otps(stack: Stack, count: int, prefix: str, gap_s: float, while_busy=None) -> list[tuple[str, float]]:
    sent = []
    for i in range(count):
        if while_busy is not None and not while_busy():
            break
        recipient = f"+9199{prefix}{i:05d}"
        t0 = time.time()
        with stack.services.transaction() as session:
            add_message(session, key=f"otp-{prefix}-{i}", recipient=recipient, template="otp.code", language="bn",
                        params={"code": f"{100000 + i}", "minutes": 10}, priority="otp",
                        expires_at=now() + timedelta(minutes=10))
        sent.append((recipient, t0))
        time.sleep(gap_s)
    return sent


def latencies(stack: Stack, sent: list[tuple[str, float]]) -> list[float]:
    wait_until(lambda: all(stack.sim_get(f"/_sim/messages?to=%2B{r[1:]}") for r, _ in sent[-1:]), 30)
    time.sleep(0.5)
    out = []
    for recipient, t0 in sent:
        received = stack.sim_get(f"/_sim/messages?to=%2B{recipient[1:]}")
        if received:
            out.append((received[0]["created"] - t0) * 1000)
    return out


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))] if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--workers", type=int, default=1, help="tikabot worker processes")
    parser.add_argument("--otps", type=int, default=60)
    args = parser.parse_args()
    stack = Stack(send_rate=100000.0)
    try:
        bare = asyncio.run(bare_loop(stack, args.messages))
        print(f"bare twilio-client loop ({IN_FLIGHT} in flight): {bare:,.0f} msg/s")
        stack.sim_post("/_sim/reset", {})

        ids = add_bulk(stack, args.messages, "a", held=True)
        workers = [stack.start_worker() for _ in range(args.workers)]
        time.sleep(3)  # workers import and connect
        if done_count(stack, ids[0]):
            raise SystemExit("messages went out before the timed part: the figure would be wrong")
        cpu0 = sum(cpu_seconds(w.pid) for w in workers)
        start = time.perf_counter()
        release(stack, ids)
        wait_until(lambda: done_count(stack, ids[0]) >= len(ids), 600, 0.05)
        elapsed = time.perf_counter() - start
        cpu = sum(cpu_seconds(w.pid) for w in workers) - cpu0
        rate = len(ids) / elapsed
        print(f"pipeline outbox -> RQ -> twilio -> simulator: {len(ids):,} in {elapsed:.2f} s = {rate:,.0f} msg/s "
              f"({rate / bare:.0%} of bare), worker CPU {cpu * 1000 / len(ids):.2f} ms/message")
        received = stack.sim_get("/_sim/stats")["counts"].get("twilio_requests")
        print(f"simulator received {received:,} create requests for {len(ids):,} messages")

        idle = latencies(stack, send_otps(stack, args.otps, "1", 0.05))
        backlog_ids = add_bulk(stack, args.messages, "b")
        transport.enqueue(stack.services.redis, [(i, "bulk") for i in backlog_ids])
        busy = latencies(stack, send_otps(stack, args.otps, "2", 0.05,
                                          while_busy=lambda: done_count(stack, backlog_ids[0]) < len(backlog_ids) * 0.9))
        wait_until(lambda: done_count(stack, backlog_ids[0]) >= len(backlog_ids), 600, 0.2)
        print(f"OTP commit -> provider, idle:         p50 {pct(idle, 50):6.1f} ms  p99 {pct(idle, 99):6.1f} ms  (n={len(idle)})")
        print(f"OTP commit -> provider, bulk backlog: p50 {pct(busy, 50):6.1f} ms  p99 {pct(busy, 99):6.1f} ms  (n={len(busy)}, "
              f"during a {args.messages:,}-message drain)")
        if idle and busy:
            print(f"p99 ratio backlog/idle: {pct(busy, 99) / pct(idle, 99):.2f}  (mean idle {statistics.mean(idle):.1f} ms)")
    finally:
        stack.close()


if __name__ == "__main__":
    main()
