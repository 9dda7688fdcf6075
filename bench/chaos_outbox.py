"""Crash test: messages through real `tikabot worker` processes while workers are SIGKILLed at
random (and Redis once), then: lost, duplicates, and whether every message ended terminal.

    .venv/bin/python bench/chaos_outbox.py [--messages 3000] [--kills 50] [--no-provider-check] [--json]

With --no-provider-check the sender neither asks Twilio nor matches our id in status callbacks
before re-sending after a crash: the duplicates it then reports are what the check prevents.
Exit status 0 when lost = duplicates = 0 and every message is terminal, else 1.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter

from harness import ROOT, Stack, wait_until
from sqlalchemy import func, select

from tikabot.stack.processes import free_port, wait_for_port
from tikabot.outbox.messages import add_message
from tikabot.core.statuses import TERMINAL
from tikabot.store.models import OutboundMessage


def statuses(stack: Stack) -> dict[str, int]:
    with stack.services.sessions() as session:
        return dict(session.execute(select(OutboundMessage.status, func.count())
                                    .group_by(OutboundMessage.status)).all())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-provider-check", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print one JSON line only")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    web_port = free_port()
    env = {"TIKABOT_SEND_LEASE": "3", "TIKABOT_RELAY_INTERVAL": "0.2", "TIKABOT_STALE_AFTER": "3",
           "TIKABOT_RETRY_BASE": "0.2", "TIKABOT_PROVIDER_CHECK": "0" if args.no_provider_check else "1",
           "TWILIO_TIMEOUT": "1"}
    stack = Stack(send_rate=1000.0, public_base_url=f"http://127.0.0.1:{web_port}", extra_env=env,
                  sim_config={"latency_ms": 30, "sent_delay_s": 0.05, "delivered_delay_s": 0.1,
                              "callback_retries": 5, "callback_retry_delay_s": 0.5})
    stack.env.update(env)
    web = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{web_port}",
                            "tikabot.app:create_app()"], cwd=ROOT, env=stack.env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    kills = redis_kills = 0
    try:
        wait_for_port(web_port)
        for _ in range(args.workers):
            stack.start_worker()
        with stack.services.transaction() as session:
            for i in range(args.messages):
                add_message(session, key=f"c{i}", recipient=f"+9198{i:08d}", template="x",
                            body=f"Message {i}: your appointment is confirmed.",
                            priority=rng.choice(("otp", "default", "default", "bulk")))
        deadline = time.monotonic() + 600

        def created() -> int:
            return stack.sim_get("/_sim/stats")["counts"].get("messages_created", 0)

        # Every kill lands while the workers are sending: after the provider has received a message
        # since the last kill (a new worker takes a moment to import and connect).
        while kills < args.kills and time.monotonic() < deadline and created() < args.messages:
            before = created()
            wait_until(lambda: created() > before, 60, 0.02)
            time.sleep(rng.uniform(0.02, 0.1))
            alive = [w for w in stack.workers if w.poll() is None]
            if alive:
                os.kill(rng.choice(alive).pid, signal.SIGKILL)
                kills += 1
            if kills == args.kills // 2 and not redis_kills:
                stack.redis_server.kill()
                time.sleep(0.5)
                stack.redis_server.restart()
                redis_kills = 1
            stack.workers = [w for w in stack.workers if w.poll() is None]
            while len(stack.workers) < args.workers:
                stack.start_worker()
        sent_during_kills = created()
        for w in list(stack.workers):
            if w.poll() is not None:
                stack.workers.remove(w)
        while len(stack.workers) < args.workers:
            stack.start_worker()
        wait_until(lambda: set(statuses(stack)) <= TERMINAL, 300, 0.5)
        final = statuses(stack)
        copies = Counter(m["to"] for m in stack.sim_get("/_sim/messages"))
        duplicates = sum(n - 1 for n in copies.values() if n > 1)
        terminal = sum(n for s, n in final.items() if s in TERMINAL)
        lost = args.messages - len(copies)
        result = {"messages": args.messages, "worker_kills": kills, "redis_kills": redis_kills,
                  "provider_check": not args.no_provider_check, "statuses": final,
                  "received_by_provider": sum(copies.values()), "sent_during_kills": sent_during_kills,
                  "lost": lost, "duplicates": duplicates,
                  "all_terminal": terminal == args.messages}
    finally:
        web.terminate()
        web.wait(10)
        stack.close()
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{result['messages']} messages, {kills} worker SIGKILLs, {redis_kills} Redis kill, "
              f"provider check {'on' if result['provider_check'] else 'OFF'}; "
              f"{sent_during_kills} reached the provider while workers were being killed")
        print(f"final statuses: {final}")
        print(f"lost {lost}, duplicates {duplicates}, every message terminal: {result['all_terminal']}")
    return 0 if (lost == 0 and duplicates == 0 and result["all_terminal"]) else 1


if __name__ == "__main__":
    sys.exit(main())
