"""`tikabot worker`: an RQ SimpleWorker on the otp, default and bulk queues, in that priority,
with RQ's scheduler, the outbox relay (a thread), the ready loop (a thread that turns the ids the
web pushed onto the ready lists into send jobs) and an OTP lane (a second process that only
takes OTP jobs, so a code never waits behind a bulk batch being sent).

Why SimpleWorker: RQ's default worker forks per job (~25 ms of CPU each); this one runs jobs
in-process and keeps the event loop and HTTP connections of tikabot.queue.runtime between jobs.
Each job carries up to 200 message ids and sends them concurrently (see send_job).
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import threading

from redis import Redis
from rq import Queue, SimpleWorker

from tikabot import services as process
from tikabot.outbox import transport
from tikabot.queue import runtime
from tikabot.outbox.transport import QUEUE_NAMES
from tikabot.queue.relay import Relay
from tikabot.queue.settings import SendSettings
from tikabot.tasks import schedule

log = logging.getLogger(__name__)
READY_WAIT_S = 1.0     # one blocking pop waits this long for an id, then checks for stop
READY_LINGER_S = 0.1   # after a pop, ids gather this long: jobs of many ids under load
LANE_QUEUES = ("otp", "reply")  # the lane process: codes first, then replies; never a bulk batch
PUBSUB_POLL_S = 0.2  # the longest a stopping worker waits for its command listener


class Worker(SimpleWorker):
    """RQ's SimpleWorker whose command listener stops within PUBSUB_POLL_S.

    RQ listens for commands (stop, kill) on a pub/sub thread polled every 60 s. redis-py's thread
    waits out that whole poll when its subscription is not yet confirmed, and stopping the worker
    joins it: one worker in about forty waited 60 s to stop (a burst run, Ctrl-C of `tikabot up`,
    the end of a rehearsal). A short poll bounds that wait; the poll itself is one idle read.
    """

    def subscribe(self):
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(sleep_time=PUBSUB_POLL_S, daemon=True,
                                                       exception_handler=self._pubsub_exception_handler)


def queues(redis: Redis, names=QUEUE_NAMES) -> list[Queue]:
    return [Queue(name, connection=redis) for name in names]


def _services():
    """The process's services, built once; the send runtime is installed with them."""
    services = process.of_process()
    runtime.install(services)
    return services


def _watch_parent(parent: int) -> None:
    def watch():
        while True:
            if os.getppid() != parent:
                os._exit(0)
            threading.Event().wait(1.0)
    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def run_otp_lane(parent: int | None = None) -> None:
    """A worker for the otp and reply queues alone (its own process)."""
    if parent is not None:
        _watch_parent(parent)
    services = _services()  # built now, not on the first code's clock
    worker = Worker(queues(services.redis, LANE_QUEUES), connection=services.redis)
    try:
        worker.work(logging_level="WARNING")
    finally:  # close the provider clients' HTTP sessions: a clean stop leaves nothing unclosed
        runtime.uninstall()
        process.release()


def start_relay(services, settings, stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=Relay(services, settings).run_forever,
                              args=(stop, lambda: schedule.enqueue_due(services.redis)),
                              daemon=True, name="outbox-relay")
    thread.start()
    return thread


def run_ready_loop(redis: Redis, stop: threading.Event) -> None:
    """Ready ids into send jobs as they come: an idle worker queues one at once; under load the
    linger batches them. A pop lost to a crash is found again by the relay."""
    while not stop.is_set():
        try:
            moved = transport.move_ready(redis, block_s=READY_WAIT_S)
        except Exception:  # Redis restarting: the relay covers anything waiting meanwhile
            if stop.is_set():  # the worker is stopping and closed the connection: not a failure
                return
            log.exception("ready loop failed; retrying")
            stop.wait(1.0)
            continue
        if moved:
            stop.wait(READY_LINGER_S)


def start_ready_loop(redis: Redis, stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=run_ready_loop, args=(redis, stop), daemon=True, name="outbox-ready")
    thread.start()
    return thread


def run_worker(redis: Redis, burst: bool = False, otp_lane: bool | None = None) -> None:
    settings = SendSettings.from_env()
    services = _services()
    worker = Worker(queues(redis), connection=redis)
    if burst:  # queue what the database holds, send everything, stop
        Relay(services, settings).run_once(force=True)
        worker.work(burst=True, logging_level="WARNING")
        runtime.uninstall()
        process.release()
        return
    if otp_lane is None:
        otp_lane = os.environ.get("TIKABOT_OTP_LANE", "1") != "0"
    lane = None
    if otp_lane:
        lane = multiprocessing.get_context("spawn").Process(target=run_otp_lane, args=(os.getpid(),),
                                                            name="otp-lane", daemon=True)
        lane.start()
        # The lane runs at normal priority, the bulk-draining worker a little below it: on a
        # busy machine the scheduler then favours the process that sends codes.
        os.nice(5)
    stop = threading.Event()
    threads = [start_relay(services, settings, stop), start_ready_loop(services.redis, stop)]
    try:
        worker.work(with_scheduler=True, logging_level="WARNING")
    finally:
        stop.set()
        for thread in threads:  # let them finish their round before their connections close
            thread.join(READY_WAIT_S * 3)
        if lane is not None:
            lane.terminate()
            lane.join(5)
        runtime.uninstall()
        process.release()
