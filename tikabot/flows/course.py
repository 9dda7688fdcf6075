"""Where a person stands in their course of doses: one rule, read by the staff flow, the runner's
dose confirmation and the planner's catch-up for paper records.

Nobody is told they are fully vaccinated unless every dose of the course is on record: a dose 2
recorded with dose 1 given elsewhere (and not on record here) gets a confirmation that says so.
"""
from __future__ import annotations

from collections.abc import Iterable

from tikabot.flows import vaccines
from tikabot.i18n.numbers import number

CONFIRMATION = "dose.confirmation"  # {next_due}: the next dose's date
FINAL = "dose.confirmation_final"  # "you are fully vaccinated"
FINAL_NOT_ON_RECORD = "dose.confirmation_earlier_missing"  # last dose given; an earlier one not on record
TEMPLATES = (CONFIRMATION, FINAL, FINAL_NOT_ON_RECORD)


def missing_before(number: int, on_record: Iterable[int]) -> tuple[int, ...]:
    """The earlier dose numbers with no live record."""
    have = set(on_record)
    return tuple(n for n in range(1, number) if n not in have)


def is_last(number: int, vaccine: str) -> bool:
    """This dose number is the course's last (an unknown vaccine counts as one dose)."""
    rule = vaccines.resolve(vaccine)
    return rule is None or number >= rule.doses


def confirmation_template(number: int, vaccine: str, on_record: Iterable[int]) -> str:
    """The beneficiary's message after dose `number`; on_record: the other live dose numbers (a
    dose 1 recorded after a dose 2 given elsewhere can complete the course)."""
    have = {*on_record, number}
    top = max(have)
    if not is_last(top, vaccine):
        return CONFIRMATION
    return FINAL_NOT_ON_RECORD if missing_before(top, have) else FINAL


class DoseNumbers(tuple):
    """Dose numbers for a message: "1" or "1, 2", in the reader's digits (১ in Bengali)."""

    def localize(self, lang: str) -> str:
        return ", ".join(number(n, lang) for n in self)

    def __str__(self) -> str:
        return ", ".join(str(n) for n in self)


def numbers(found: Iterable[int]) -> DoseNumbers:
    return DoseNumbers(found)
