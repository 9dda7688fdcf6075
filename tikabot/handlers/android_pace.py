"""Who may take a gateway phone's next send slot, and how long each kind of message may wait for it.

A phone's SIM sends a few SMS a minute (6 by default: one slot every 10 s), and everything routed
to it shares one Redis bucket (core/throttle.py, GCRA). A vaccinator who sends START and then
DOSE a second later must get both replies within seconds, even with 200 reminders queued on the
same phone. So the message's lane (Outgoing.priority: otp, reply, default, bulk) sets two knobs:

| lane          | tolerance (burst)  | may wait for its slot |
|---------------|--------------------|-----------------------|
| otp, reply    | one slot interval  | up to max_wait (5 s)  |
| default       | none               | up to max_wait        |
| bulk          | none               | not at all            |

- Bulk takes a slot only when the phone is idle now. It never queues ahead of anyone, and when a
  reminder has just taken the phone, the tolerance lets the next reply go at once instead of 10 s
  later: a reply is never delayed by bulk, only by other replies.
- The tolerance is one interval, so at most one extra SMS goes in any interval, and only after
  the phone was quiet; every slot still moves the bucket on by one interval, so the long-run
  rate is the SIM's rate.
- A message whose slot is further away than it may wait is refused *without taking the slot*
  (the script decides atomically), and goes back to the outbox to try again when its slot would
  have come (SendError.wait_s). That is our own pace, not a failure: it costs the message no
  attempt and counts nothing against the phone (send_job treats kind.paced so).

Chosen over alternatives: a second bucket for bulk (two buckets let their sum exceed the SIM's
rate), or holding bulk in the worker until the phone is free (holds a lease for minutes and does
not yield to a reply that arrives meanwhile). Bulk refused while the phone is busy is retried
after the phone's current slots, spread over one interval so the queue does not come back as
one herd.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

URGENT = frozenset({"otp", "reply"})


@dataclass(frozen=True)
class Lane:
    tolerance: float  # seconds a reservation may start ahead of the bucket's next slot
    max_wait: float   # seconds the sender may wait for its slot; further away: refused


def lane_for(priority: str, interval: float, max_wait: float) -> Lane:
    if priority in URGENT:
        return Lane(tolerance=interval, max_wait=max_wait)
    if priority == "bulk":
        return Lane(tolerance=0.0, max_wait=0.0)
    return Lane(tolerance=0.0, max_wait=max_wait)


def retry_after(priority: str, wait: float, interval: float, rng=random) -> float:
    """Seconds until a message refused for pace tries again: when its slot would have come; bulk
    somewhere in the interval after that, so many reminders do not all come back at once."""
    if priority == "bulk":
        return wait + rng.uniform(0.0, interval)
    return wait
