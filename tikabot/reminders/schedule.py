"""The reminder kinds and when each goes out: a table and pure functions, no database.

Each kind is anchored on a local date (the appointment's date, or the day dose 2 falls due) and
has a local send time, a moment after which it is too late, and a moment from which the planner
may write it to the outbox (send time minus the planning horizon, or for a missed appointment
only once the day is over).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from tikabot.reminders.policy import Policy
from tikabot.store.appointments import ACTIVE  # the statuses of an appointment that still expects the person


@dataclass(frozen=True)
class Kind:
    name: str                          # part of the idempotency key
    template: str
    send: tuple[int, time] | None      # (days from the anchor, local time); None = at once
    expires: tuple[int, time] | None   # (days from the anchor, local time); None = end of the slot
    after: tuple[int, time] | None = None  # not planned before this (days, local time)
    statuses: tuple[str, ...] = ACTIVE
    linked: bool = True  # the outbox row carries appointment_id (the sender drops those once the day is past)


BOOKED = Kind("booked", "appt.booked", None, None)
EVE = Kind("eve", "appt.reminder_eve", (-1, time(18)), (0, time(0)))
MORNING = Kind("morning", "appt.reminder_morning", (0, time(7)), None)
MISSED = Kind("missed", "appt.missed", (1, time(10)), (2, time(0)), after=(1, time(0)),
              statuses=ACTIVE + ("missed",), linked=False)
DUE_EVE = Kind("dueeve", "dose2.due_tomorrow", (-1, time(18)), (0, time(0)))
DUE_DAY = Kind("dueday", "dose2.due_today", (0, time(7)), (1, time(0)))

APPOINTMENT_KINDS = (BOOKED, EVE, MORNING, MISSED)
DUE_KINDS = (DUE_EVE, DUE_DAY)
ALL_KINDS = APPOINTMENT_KINDS + DUE_KINDS
ALL_TEMPLATES = tuple(k.template for k in ALL_KINDS)
DUE_TEMPLATES = tuple(k.template for k in DUE_KINDS)


@dataclass(frozen=True)
class Timing:
    send_at: datetime          # UTC, out of quiet hours, never before now
    expires_at: datetime       # UTC; sending at or after this is too late
    plan_from: datetime        # UTC; the planner writes it from here on

    def not_before(self, now: datetime) -> datetime | None:
        """None when it may go at once (so the outbox queues it on commit)."""
        return self.send_at if self.send_at > now else None


def appointment_key(appointment_id: int, kind: Kind, anchor: date) -> str:
    return f"appt-{appointment_id}-{kind.name}-{anchor.isoformat()}"


def due_key(beneficiary_id: int, kind: Kind, due: date) -> str:
    return f"due-{beneficiary_id}-d2-{kind.name}-{due.isoformat()}"


def slot_end(slot: str) -> time:
    """'09:00-11:00' -> 11:00."""
    hours, minutes = slot.split("-")[1].split(":")
    return time(int(hours), int(minutes))


def timing(kind: Kind, anchor: date, now: datetime, policy: Policy, slot: str | None = None) -> Timing:
    """When kind goes out for anchor, seen from now (sent late rather than never, unless too late)."""
    if kind.expires is None:
        expires = policy.at(anchor, slot_end(slot))
    else:
        expires = policy.at(anchor + timedelta(days=kind.expires[0]), kind.expires[1])
    if kind.send is None:
        nominal, plan_from = now, now
    else:
        nominal = policy.at(anchor + timedelta(days=kind.send[0]), kind.send[1])
        plan_from = nominal - policy.horizon
    if kind.after is not None:
        plan_from = max(plan_from, policy.at(anchor + timedelta(days=kind.after[0]), kind.after[1]))
    return Timing(policy.out_of_quiet(max(nominal, now)), expires, plan_from)


def plannable(t: Timing, now: datetime) -> bool:
    """Due to be written now: its planning window has opened and it would not go too late."""
    return t.plan_from <= now and t.send_at < t.expires_at


def wanted(kind: Kind, status: str, has_dose: bool, opted_out: bool) -> bool:
    """Does the person still need this appointment message, given what is recorded?

    An opt-out (STOP) stops every one of them, the booking notice too: they all go on the bulk
    queue, and the sender drops bulk messages to opted-out people (codes and confirmations go)."""
    return status in kind.statuses and not has_dose and not opted_out
