"""Taking one route down for a stretch of the rehearsal's day (`--down`), the way it fails for real.

Exotel: the simulator refuses every API request with 403 (an account suspended or out of balance).
C-DAC: every send refused `403,Credits not available`; pull SMS still come in (MSDG forwards them).
NIC: every send answered `-19` (the account refuses our source address). Kannel: smsbox drops every
connection unanswered, and nobody's SMS come in through it meanwhile.
A gateway phone: the simulator's phone goes silent (no answer, no webhooks), and staff text the
next route while it is off. Twilio: taken out of rotation in route health (force_down), since the
simulator has no account-wide Twilio fault. The stretch is measured in the day's progress (people
seen). At its end the day waits: until tikabot noticed the route down, the fault is lifted and the
route's cool-off ran out, so the rest of the day's people can bring it back. Both the failover and the
return are exercised however small the day or busy the machine (a day that ran on while the route was
down could be over before anything tried the route again).
"""
from __future__ import annotations

import threading
import time

import requests
from redis import Redis
from redis.exceptions import RedisError

from tikabot.queue.routes.health import DOWN, FORCED, UP, RouteHealth
from tikabot.rehearsal.channels import DAY_MINUTES, Outage

DETECT_TIMEOUT_S = 90.0  # a route not noticed down by then is reported as not noticed
BACK_TIMEOUT_S = 30.0    # the day waits at most this long for the route's cool-off after the fault is lifted
FAULTS = {"exotel": ({"exotel_account_error": 403}, {"exotel_account_error": None}, "account refused (403)"),
          "cdac": ({"cdac_account_error": 403}, {"cdac_account_error": None}, "credits exhausted (403)"),
          "nic": ({"nic_account_error": "-19"}, {"nic_account_error": None}, "account refused our address (-19)"),
          "kannel": ({"kannel_down": "unreachable"}, {"kannel_down": None}, "smsbox unreachable")}
SILENT = ("android", "kannel")  # routes people cannot text while down (a phone off, smsbox gone)


class OutageDriver:
    def __init__(self, outage: Outage, sim_url: str, redis_url: str, phone_ids, inbound=None):
        self.outage, self.sim_url, self.redis_url = outage, sim_url, redis_url
        self.phone_ids, self.inbound = list(phone_ids), inbound
        self.total, self.seen = 0, 0
        self._lock = threading.Lock()
        self.stop = threading.Event()
        self.back = threading.Event()  # the outage is over and the route may be tried: the day goes on
        self.day_started = time.time()
        self.log: dict = {"route": self.outage.route, "planned_minutes": outage.minutes(),
                          "fault": self._fault()[2], "began_s": None, "noticed_s": None, "ended_s": None,
                          "noticed": False}
        self._thread = threading.Thread(target=self._run, daemon=True, name="outage")

    def _fault(self) -> tuple[dict | None, dict | None, str]:
        route = self.outage.route
        if route in FAULTS:
            return FAULTS[route]
        if route == "android":
            return {"smsgate_offline": self.phone_ids}, {"smsgate_offline": []}, "gateway phone switched off"
        return None, None, "taken out of rotation (force_down)"

    def start(self, total: int) -> None:
        self.total, self.day_started = total, time.time()
        self._thread.start()

    def progress(self, n: int) -> None:
        """Count people seen; at the stretch's end, hold the day until the route may be tried again
        (not when the stretch lasts to the day's end: nobody is left to try it)."""
        with self._lock:
            self.seen += n
        if self.outage.end < 1.0 and self._share() >= self.outage.end and not self.back.is_set():
            self.back.wait(DETECT_TIMEOUT_S + BACK_TIMEOUT_S + 30.0)

    def _share(self) -> float:
        with self._lock:
            return self.seen / self.total if self.total else 1.0

    def _at(self) -> float:
        return round(time.time() - self.day_started, 1)

    def _run(self) -> None:
        while self._share() < self.outage.start and not self.stop.is_set():
            self.stop.wait(0.05)
        self._apply(True)
        began = time.monotonic()
        health = RouteHealth(Redis.from_url(self.redis_url, socket_timeout=5))
        while True:  # until END of the day is reached and tikabot has noticed (or the day is over)
            if not self.log["noticed"] and self._noticed(health):
                self.log.update(noticed=True, noticed_s=self._at())
            late = time.monotonic() - began > DETECT_TIMEOUT_S
            if self.stop.is_set() or (self._share() >= self.outage.end and (self.log["noticed"] or late)):
                break
            self.stop.wait(0.05)
        self._apply(False)
        self._wait_usable(health)
        health.redis.close()
        self.back.set()

    def _wait_usable(self, health: RouteHealth) -> None:
        """Until the route's cool-off ran out (a trial failing just before the fault was lifted took
        it down once more), so the next message may try it."""
        deadline = time.monotonic() + BACK_TIMEOUT_S
        while time.monotonic() < deadline and not self.stop.is_set():
            try:
                if health.state(self.outage.route) not in (DOWN, FORCED):
                    break
            except RedisError:
                break
            self.stop.wait(0.05)
        self.log["usable_s"] = self._at()

    def _noticed(self, health: RouteHealth) -> bool:
        try:
            return health.state(self.outage.route) != UP
        except RedisError:
            return False

    def _apply(self, down: bool) -> None:
        apply, clear, _ = self._fault()
        route = self.outage.route
        if down and self.inbound is not None and route in SILENT:
            self.inbound.down.add(route)  # nobody texts a phone being switched off
        if apply is not None:
            requests.post(f"{self.sim_url}/_sim/config", json=apply if down else clear, timeout=30).raise_for_status()
        else:
            health = RouteHealth(Redis.from_url(self.redis_url, socket_timeout=5))
            if down:
                health.force_down(route, reason="rehearsal: taken down")
            else:
                health.force_up(route)
            health.redis.close()
        if not down and self.inbound is not None and route in SILENT:
            self.inbound.down.discard(route)
        self.log["began_s" if down else "ended_s"] = self._at()

    def finish(self) -> dict:
        """End the outage if the day ended first; what happened, in seconds from the day's start."""
        self.stop.set()
        self.back.set()
        if self._thread.is_alive():
            self._thread.join()
        return dict(self.log, day_minutes=DAY_MINUTES)
