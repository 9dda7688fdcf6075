"""The beneficiary's dose confirmation, built in one place for every path that confirms a dose: a
report by SMS or USSD (runner/apply.py, in the dose's own transaction), the same dose reported
again after UNDO, and the planner's catch-up for paper records (reminders/doses.py).

    dose_confirmation(first_name, number, vaccine, on_record, given_on) -> Confirmation

The dose, the vaccine and the next dose's due date, or "fully vaccinated" only when every dose of
the course is on record (course.py); a course ended with an earlier dose not on record says which.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from tikabot.flows import course, vaccines


@dataclass(frozen=True)
class Confirmation:
    template: str  # one of course.TEMPLATES
    params: dict


def confirmation_key(dose_id: int) -> str:
    """The outbox key: one confirmation per dose record, whichever path confirms it (a re-report
    after UNDO adds its own suffix)."""
    return f"dose-{dose_id}-confirmation"


def next_due(number: int, vaccine: str, on_record: Iterable[int], given_on: date) -> date | None:
    """When the dose after dose `number` (given on given_on) is due; None when the course ends with
    it (a later dose on record ends it too)."""
    if course.confirmation_template(number, vaccine, on_record) != course.CONFIRMATION:
        return None
    return given_on + timedelta(days=vaccines.resolve(vaccine).min_interval_days)


def dose_confirmation(first_name: str, number: int, vaccine: str, on_record: Iterable[int],
                      given_on: date) -> Confirmation:
    """on_record: the person's other live dose numbers."""
    on_record = tuple(on_record)
    template = course.confirmation_template(number, vaccine, on_record)
    params: dict = {"name": first_name, "dose": number, "vaccine": vaccine}
    if template == course.CONFIRMATION:
        params["next_due"] = next_due(number, vaccine, on_record, given_on)
    elif template == course.FINAL_NOT_ON_RECORD:
        have = {*on_record, number}
        params["missing"] = course.numbers(course.missing_before(max(have), have))
    return Confirmation(template, params)
