"""Outbound message statuses. A message's status only moves forward (a late `sent` never
overwrites `delivered`); the one way back is a planned retry, which returns it to `pending`."""
from __future__ import annotations

RANK = {
    "pending": 0,     # in the outbox, waiting to be sent (queued on Redis, or due later)
    "sending": 1,     # a sender holds its lease and is calling the provider
    "accepted": 2,    # the provider has it (we know its sid)
    "sent": 3,        # handed to the carrier
    "delivered": 4,   # terminal: on the handset
    "failed": 4,      # terminal: gave up (permanent error or out of attempts)
    "expired": 4,     # terminal: an OTP past its expiry, never sent
    "canceled": 4,    # terminal: a reminder after its appointment, or to an opted-out number
}
TERMINAL = frozenset(s for s, r in RANK.items() if r == 4)
# Statuses whose message may already exist at the provider.
AT_PROVIDER = ("accepted", "sent")


def moves_forward(current: str, new: str) -> bool:
    return RANK[new] > RANK[current]
