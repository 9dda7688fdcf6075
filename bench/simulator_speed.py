"""How many messages per second the provider simulator answers.

Sends with twilio's async client (``messages.create_async``, 32 in flight) against a
simulator in its own process (or, with ``--same-process``, a background thread sharing
this interpreter), and prints requests per second.

    python bench/simulator_speed.py [--count 5000] [--in-flight 32] [--same-process]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import subprocess
import sys
import time
import urllib.request

from tikabot.handlers.twilio_client import close_async_client, make_async_client
from tikabot.simulator.config import FaultConfig
from tikabot.simulator.server import SimulatorThread


async def send(url: str, config: FaultConfig, count: int, in_flight: int) -> float:
    client = make_async_client(config.account_sid, config.auth_token, url,
                               max_connections=in_flight)

    async def run_batch(numbers) -> None:
        async def worker() -> None:
            for n in numbers:
                await client.messages.create_async(to=f"+88017{n:08d}", from_="+15005550006",
                                                   body=f"Your dose {n} is on Monday")

        await asyncio.gather(*[worker() for _ in range(in_flight)])

    try:
        await run_batch(iter(range(in_flight * 4)))  # open the connections first
        started = time.perf_counter()
        await run_batch(iter(range(count)))
        return time.perf_counter() - started
    finally:
        await close_async_client(client)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def simulator_process(config: FaultConfig):
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "tikabot.simulator", "--quiet",
                                "--port", str(port), "--account-sid", config.account_sid,
                                "--auth-token", config.auth_token],
                               stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            with contextlib.suppress(OSError):
                urllib.request.urlopen(url + "/_sim/health", timeout=1).close()
                break
            time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--in-flight", type=int, default=32)
    parser.add_argument("--same-process", action="store_true")
    args = parser.parse_args()
    config = FaultConfig()
    if args.same_process:
        server, where = SimulatorThread(config), "a thread of this process"
        url = server.start()
        stop = server.stop
    else:
        server, where = simulator_process(config), "its own process"
        url = server.__enter__()
        stop = lambda: server.__exit__(None, None, None)  # noqa: E731
    try:
        elapsed = asyncio.run(send(url, config, args.count, args.in_flight))
    finally:
        stop()
    print(f"{args.count} messages in {elapsed:.2f} s: {args.count / elapsed:,.0f} req/s "
          f"(async twilio client, {args.in_flight} in flight, simulator in {where})")


if __name__ == "__main__":
    main()
