"""The inbox worker: claims waiting inbox messages and has the runner process them.

    python -m tikabot.inbox.worker        (`tikabot worker` starts TIKABOT_INBOX_WORKERS of these)

Each turn: a plain read asks whether anything waits (idle, that is all it costs); a claim leases up
to CLAIM messages in arrival order (after a small claim the worker lets messages gather for
LINGER_S first: a claim and a round cost the same few statements for 3 messages as for 50), skipping senders another worker holds (store.claim); the
runner processes them, round after round, many senders per transaction, and marks them done in
the transaction that applies them (store.finish).

Recovery: a killed worker's leases run out (TIKABOT_INBOX_LEASE seconds) and its messages are
claimed again, in order; nothing it did without committing remains, and nothing it committed is
done twice. The inbox is the database's, so there is nothing for Redis to lose: a Redis restart
only pauses processing. A round that fails is tried message by message, so one bad message holds
up only its own sender (until its lease runs out; it is given up after store.MAX_ATTEMPTS claims).
The worker also drains this machine's spool (spool.py) whenever it finds one.
"""
from __future__ import annotations

import logging
import os
import signal
import threading
import time

from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from tikabot import services as process_services
from tikabot.core import clock
from tikabot.inbox import store
from tikabot.inbox.accept import inbox_of
from tikabot.core.message import Held
from tikabot.runner.run import process
from tikabot.runner.run import LeaseLost

log = logging.getLogger(__name__)
CLAIM = 200  # messages per claim
IDLE_S = 0.02  # between looks while nothing waits
TROUBLE_S = 0.5  # after the database or Redis failed
DRAIN_EVERY_S = 1.0
LINGER_BELOW = 50  # a claim of fewer messages than this is followed by LINGER_S of gathering
LINGER_S = 0.1  # under a trickle, messages gather this long: fewer, larger claims and rounds


def lease_s() -> float:
    return float(os.environ.get("TIKABOT_INBOX_LEASE", "30"))


def turn(services, lease: float, claim: int = CLAIM) -> int:
    """Claim and process once; returns how many messages were claimed."""
    now = clock.now()
    if not store.waiting(services.engine, now):
        return 0
    held = store.claim(services.engine, now, lease, claim)
    if not held:
        return 0
    try:
        process(services, held, pre_commit=store.finish)
    except LeaseLost:
        log.warning("inbox: a lease ran out mid-claim; another worker has those messages")
    except (SQLAlchemyError, RedisError) as exc:  # unavailable: the leases run out, the messages wait
        log.warning("inbox: %s while processing; the messages wait", type(exc).__name__)
        time.sleep(TROUBLE_S)
    except Exception:
        log.exception("inbox: a round failed; trying its messages one by one")
        one_by_one(services, held)
    return len(held)


def one_by_one(services, held: list[Held]) -> None:
    """Each message in its own transaction; a sender whose message fails keeps the rest of their
    messages leased (nothing of theirs goes ahead of it) until the lease runs out."""
    stuck: set[str] = set()
    for h in held:
        if h.message.sender in stuck:
            continue
        try:
            process(services, [h], pre_commit=store.finish)
        except LeaseLost:
            continue  # done in a round that committed before the failure, or taken over
        except Exception:
            log.exception("inbox: message %s failed; retried when its lease runs out", h.row_id)
            stuck.add(h.message.sender)


def run(services, stop: threading.Event) -> None:
    lease = lease_s()
    inbox = inbox_of(services)
    last_drain = 0.0
    while not stop.is_set():
        if time.monotonic() - last_drain >= DRAIN_EVERY_S:
            last_drain = time.monotonic()
            _drain(inbox)
        try:
            claimed = turn(services, lease)
        except (SQLAlchemyError, RedisError) as exc:
            log.warning("inbox: cannot claim (%s); retrying", type(exc).__name__)
            stop.wait(TROUBLE_S)
            continue
        if not claimed:
            stop.wait(IDLE_S)
        elif claimed < LINGER_BELOW:
            stop.wait(LINGER_S)


def _drain(inbox) -> None:
    try:
        if inbox.spool is not None and inbox.spool.backlog():
            inbox.drain()
    except SQLAlchemyError:
        pass  # the database still cannot take writes
    except Exception:
        log.exception("inbox: spool drain failed")


def _watch_parent(parent: int, stop: threading.Event) -> None:
    def watch():
        while not stop.wait(1.0):
            if os.getppid() != parent:
                os._exit(0)
    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def main(parent: int | None = None) -> None:
    logging.basicConfig(level=logging.WARNING)
    services = process_services.of_process()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if parent is not None:
        _watch_parent(parent, stop)
    try:
        run(services, stop)
    finally:
        process_services.release()


def start_processes(count: int) -> list:
    """Inbox workers as child processes of this one (they stop when it goes)."""
    import multiprocessing

    procs = []
    for n in range(count):
        proc = multiprocessing.get_context("spawn").Process(target=main, args=(os.getpid(),),
                                                            name=f"inbox-{n}", daemon=True)
        proc.start()
        procs.append(proc)
    return procs


def burst(services) -> int:
    """Process everything waiting, then return (tikabot worker --burst)."""
    total, lease = 0, lease_s()
    _drain(inbox_of(services))
    while claimed := turn(services, lease):
        total += claimed
    return total


if __name__ == "__main__":
    main()
